using System.Text.Json.Nodes;
using TrigramLens.Checkpoints;
using TrigramLens.Testing;
using TrigramLens.Transcoders;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Transcoders;

public sealed class TranscoderFileTests() : TempDirectoryTests("trigramlens-transcoder-")
{
    static TranscoderConfig Config(TranscoderActivation activation, bool skip, int? k = null) =>
        new(6, 10, 4, activation, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out", k, skip, "arena-trigrams");

    [Theory]
    [InlineData(TranscoderActivation.Relu, false, null)]
    [InlineData(TranscoderActivation.Relu, true, null)]
    [InlineData(TranscoderActivation.TopK, false, 3)]
    [InlineData(TranscoderActivation.TopK, true, 2)]
    [InlineData(TranscoderActivation.JumpRelu, false, null)]
    [InlineData(TranscoderActivation.JumpRelu, true, null)]
    public void Save_then_load_gives_the_same_config_and_bit_equal_weights(TranscoderActivation activation, bool skip, int? k)
    {
        using var t = SyntheticTranscoders.Random(Config(activation, skip, k), 7);
        string dir = Path.Combine(Dir, "tc");
        TranscoderFile.Save(t, dir, new Dictionary<string, JsonNode?> { ["trigramlens_steps"] = 12 });
        Assert.Equal(["cfg.json", "sae_weights.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
        using var loaded = TranscoderFile.Load(dir);
        Assert.Equal(t.Cfg, loaded.Cfg);
        var expected = t.NamedParameters();
        var actual = loaded.NamedParameters();
        Assert.Equal(expected.Select(p => p.Name), actual.Select(p => p.Name));
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(expected[i].Parameter.detach().data<float>().ToArray(), actual[i].Parameter.detach().data<float>().ToArray());

        // SAELens's fields, as SAELens writes them for transcoders.
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "cfg.json")))!.AsObject();
        Assert.Equal(t.Cfg.architecture, (string)cfg["architecture"]!);
        Assert.Equal(6, (int)cfg["d_in"]!);
        Assert.Equal(10, (int)cfg["d_sae"]!);
        Assert.Equal(4, (int)cfg["d_out"]!);
        Assert.Equal("float32", (string)cfg["dtype"]!);
        Assert.False((bool)cfg["apply_b_dec_to_input"]!);
        Assert.Equal("blocks.0.hook_resid_mid", (string)cfg["metadata"]!["hook_name"]!);
        Assert.Equal("blocks.0.hook_mlp_out", (string)cfg["metadata"]!["hook_name_out"]!);
        Assert.Equal(12, (int)cfg["metadata"]!["trigramlens_steps"]!);
        Assert.Equal(k, (int?)cfg["k"]);
        var (tensors, _) = SafetensorsFile.Load(Path.Combine(dir, "sae_weights.safetensors"));
        Assert.Equal([6L, 10], tensors["W_enc"].shape);
        Assert.Equal([10L, 4], tensors["W_dec"].shape);
        if (skip) Assert.Equal([4L, 6], tensors["W_skip"].shape);
        Assert.Equal(activation == TranscoderActivation.JumpRelu, tensors.ContainsKey("threshold"));
    }

    string Saved(TranscoderActivation activation = TranscoderActivation.TopK, bool skip = false, int? k = 2)
    {
        using var t = SyntheticTranscoders.Random(Config(activation, skip, k), 8);
        string dir = Path.Combine(Dir, Guid.NewGuid().ToString("N"));
        TranscoderFile.Save(t, dir);
        return dir;
    }

    void EditConfig(string dir, Action<JsonObject> edit)
    {
        string path = Path.Combine(dir, "cfg.json");
        var cfg = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(cfg);
        File.WriteAllText(path, cfg.ToJsonString());
    }

    void ReplaceWeights(string dir, Action<Dictionary<string, Tensor>> edit)
    {
        string path = Path.Combine(dir, "sae_weights.safetensors");
        var (tensors, metadata) = SafetensorsFile.Load(path);
        edit(tensors);
        SafetensorsFile.Save(path, tensors, metadata);
    }

    [Fact]
    public void Loading_refuses_mismatches_with_one_line_that_names_the_problem()
    {
        void Refused(string dir, string expected)
        {
            var e = Assert.Throws<CheckpointException>(() => TranscoderFile.Load(dir));
            Assert.Contains(expected, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }

        Refused(Path.Combine(Dir, "missing"), "no transcoder folder");
        string a = Saved();
        File.Delete(Path.Combine(a, "cfg.json"));
        Refused(a, "has no cfg.json");
        string b = Saved();
        EditConfig(b, c => c["d_sae"] = 11);
        Refused(b, "'W_enc' is [6, 10], cfg.json implies [6, 11]");
        string c = Saved();
        EditConfig(c, c => c["architecture"] = "standard");
        Refused(c, "architecture 'standard' is not a transcoder");
        string d = Saved();
        EditConfig(d, c => c.Remove("k"));
        Refused(d, "k must be a positive integer");
        string e = Saved();
        EditConfig(e, c => c["apply_b_dec_to_input"] = true);
        Refused(e, "apply_b_dec_to_input");
        string f = Saved();
        EditConfig(f, c => c["metadata"]!.AsObject().Remove("hook_name_out"));
        Refused(f, "metadata.hook_name_out");
        string g = Saved();
        ReplaceWeights(g, w => w.Remove("b_dec"));
        Refused(g, "lacks 'b_dec'");
        string h = Saved();
        ReplaceWeights(h, w => w["W_skip"] = zeros(4, 6));
        Refused(h, "holds 'W_skip', which a topk_transcoder does not have");
        string i = Saved();
        EditConfig(i, c => c["d_out"] = "four");
        Refused(i, "d_out must be a positive integer");
        string j = Saved();
        File.WriteAllText(Path.Combine(j, "cfg.json"), "{ not json");
        Refused(j, "is not valid JSON");
    }
}
