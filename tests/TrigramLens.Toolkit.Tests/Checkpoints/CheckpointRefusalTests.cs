using System.Text;
using System.Text.Json.Nodes;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Checkpoints;

/// <summary>What the readers refuse, each in one line that names the problem; and what they accept.</summary>
public sealed class CheckpointRefusalTests() : TempDirectoryTests("trigramlens-refuse-")
{
    string PathOf(string name) => Path.Combine(Dir, name);

    static readonly CheckpointLoadOptions Plain = new(ActFn: ActivationFunction.Gelu, NormalizationType: NormalizationType.None);

    static string Refusal(Action load)
    {
        var e = Assert.Throws<CheckpointException>(load);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    static Dictionary<string, Tensor> StateDictOf(HookedTransformerConfig cfg)
    {
        using var model = new HookedTransformer(cfg);
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    /// <summary>A TL-layout safetensors file with no recorded config, as other tools write it.</summary>
    string Bare(Dictionary<string, Tensor> stateDict, string name = "bare.safetensors")
    {
        SafetensorsFile.Save(PathOf(name), stateDict, new Dictionary<string, string>());
        return PathOf(name);
    }

    [Fact]
    public void A_text_file_named_pt_is_neither_kind_of_checkpoint()
    {
        File.WriteAllText(PathOf("notes.pt"), "these are my notes, not a model\n");
        Assert.Contains("is neither a PyTorch checkpoint (a zip archive) nor a safetensors file (it starts with the text \"these ar\")",
            Refusal(() => ModelCheckpoint.Load(PathOf("notes.pt"))));
        File.WriteAllBytes(PathOf("empty.pt"), []);
        Assert.Contains("it starts with nothing: it is empty", Refusal(() => ModelCheckpoint.Load(PathOf("empty.pt"))));
    }

    [Fact]
    public void A_directory_is_not_a_checkpoint_file()
    {
        Directory.CreateDirectory(PathOf("model.pt"));
        Assert.Contains("is a directory, not a checkpoint file", Refusal(() => ModelCheckpoint.Load(PathOf("model.pt"))));
        Assert.Contains("is a directory, not a checkpoint file", Refusal(() => PyTorchCheckpoint.LoadStateDict(PathOf("model.pt"))));
        Assert.Contains("is a directory, not a checkpoint file", Refusal(() => SafetensorsFile.Load(PathOf("model.pt"))));
        Assert.Contains("is a directory, not a training checkpoint file", Refusal(() => TrainingCheckpoint.Load(PathOf("model.pt"))));
    }

    [Theory]
    [InlineData(float.NaN, "1 NaN, 0 infinite")]
    [InlineData(float.PositiveInfinity, "0 NaN, 1 infinite")]
    public void Non_finite_weights_are_refused_not_loaded(float value, string expected)
    {
        // The decision this pins: a model that cannot compute is refused at load, not discovered later as NaN logits.
        var sd = StateDictOf(TinyModels.Deep(norm: NormalizationType.None));
        sd["blocks.1.mlp.W_out"][3, 4] = value;
        string message = Refusal(() => ModelCheckpoint.Load(Bare(sd), Plain));
        Assert.Contains("'blocks.1.mlp.W_out'", message);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void Attention_buffers_TL_writes_are_accepted_and_others_refused()
    {
        var cfg = TinyModels.Deep(norm: NormalizationType.None);
        var sd = StateDictOf(cfg);
        sd["blocks.0.attn.mask"] = empty(0, 0, ScalarType.Bool);                    // TL ≥ 3.5
        sd["blocks.1.attn.IGNORE"] = tensor(-1e5f);                                  // an old TL's masked score
        using (var model = ModelCheckpoint.Load(Bare(sd), Plain))
            Assert.Equal([9L, 9L], model.blocks[0].attn.mask.shape);

        var notCausal = StateDictOf(cfg);
        notCausal["blocks.1.attn.mask"] = ones(9, 9, ScalarType.Bool);
        Assert.Contains("is not the causal mask", Refusal(() => ModelCheckpoint.Load(Bare(notCausal, "b2.safetensors"), Plain)));

        var wrongShape = StateDictOf(cfg);
        wrongShape["blocks.1.attn.mask"] = ones(4, 4, ScalarType.Bool).tril();
        Assert.Contains("(or TL 3.5's empty [0, 0])", Refusal(() => ModelCheckpoint.Load(Bare(wrongShape, "b3.safetensors"), Plain)));

        var positiveIgnore = StateDictOf(cfg);
        positiveIgnore["blocks.0.attn.IGNORE"] = tensor(5f);
        Assert.Contains("a masked attention score must be -inf", Refusal(() => ModelCheckpoint.Load(Bare(positiveIgnore, "b4.safetensors"), Plain)));
    }

    [Fact]
    public void A_bool_tensor_holding_other_bytes_is_refused_before_libtorch_sees_it()
    {
        var sd = StateDictOf(TinyModels.Deep(norm: NormalizationType.None));
        string path = Bare(sd);
        var header = SafetensorsFile.ReadHeader(path);
        var mask = header.Entries.Single(e => e.Name == "blocks.0.attn.mask");
        byte[] bytes = File.ReadAllBytes(path);
        bytes[header.DataStart + mask.Start + 3] = 7;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("is a bool tensor holding the byte value 7", Refusal(() => SafetensorsFile.Load(path)));
    }

    [Fact]
    public void RMSNorm_weights_are_named_as_unsupported()
    {
        var sd = StateDictOf(TinyModels.Deep());
        sd.Remove("blocks.0.ln1.b");
        Assert.Contains("'blocks.0.ln1.w' without its shift 'blocks.0.ln1.b'", Refusal(() => ConfigInference.Infer(sd, "t", ActivationFunction.Gelu)));
    }

    [Fact]
    public void A_recorded_config_that_does_not_fit_the_tensors_is_refused_before_a_model_is_built()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        string path = PathOf("m.safetensors");
        var claims = JsonNode.Parse(model.Cfg.ToJson())!;
        claims["n_ctx"] = 2_000_000;   // a model this size would need terabytes of masks
        SafetensorsFile.Save(path, model.state_dict(), new Dictionary<string, string> { [ModelCheckpoint.ConfigKey] = claims.ToJsonString() });
        Assert.Contains("config has n_ctx = 2000000 but its tensors have 9 (pos_embed.W_pos)", Refusal(() => ModelCheckpoint.Load(path)));
    }

    [Fact]
    public void Layer_counts_come_from_present_layers_only()
    {
        var sd = StateDictOf(TinyModels.Deep(norm: NormalizationType.None));
        sd["blocks.99999999999.attn.W_Q"] = zeros(3, 12, 4);
        Assert.Contains("whose layer index no layer count fits", Refusal(() => ConfigInference.Infer(sd, "t", ActivationFunction.Gelu, NormalizationType.None)));
        sd.Remove("blocks.99999999999.attn.W_Q");
        sd["blocks.7.mlp.b_in"] = zeros(16);
        Assert.Contains("has no 'blocks.2.attn.W_Q'", Refusal(() => ConfigInference.Infer(sd, "t", ActivationFunction.Gelu, NormalizationType.None)));
    }

    [Fact]
    public void Causal_masks_beyond_a_gibibyte_are_refused()
    {
        var sd = new Dictionary<string, Tensor>
        {
            ["embed.W_E"] = zeros(3, 1), ["pos_embed.W_pos"] = zeros(40_000, 1), ["unembed.W_U"] = zeros(1, 3), ["blocks.0.attn.W_Q"] = zeros(1, 1, 1),
        };
        Assert.Contains("would need 1.5 GiB of causal masks", Refusal(() => ConfigInference.Infer(sd, "t", ActivationFunction.Relu, NormalizationType.None)));
    }

    /// <summary>Header entries one at a time, each against the rule it breaks.</summary>
    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "dtype 'F8_E4M3', which is not one of")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "is F32 [3] (12 bytes) but its data_offsets span 8 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "not a list of non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, "too large for any file")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6, "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6, "2 bytes before tensor 'a' belong to no tensor")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 9, "5 bytes after the last tensor belong to no tensor")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]}}", 4, "names 'a' twice")]
    [InlineData("{\"__metadata__\":{\"n\":5}}", 0, "metadata 'n' is not a string")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[4]}}", 4, "has no data_offsets")]
    [InlineData("[1,2]", 0, "header is not a JSON object")]
    public void Safetensors_headers_are_checked_entry_by_entry(string header, int dataBytes, string expected)
    {
        string path = PathOf("h.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)json.Length), .. json, .. new byte[dataBytes]]);
        Assert.Contains(expected, Refusal(() => SafetensorsFile.Load(path)));
    }

    [Fact]
    public void PyTorch_state_dicts_of_the_wrong_dtype_or_with_foreign_values_are_refused()
    {
        var sd = StateDictOf(TinyModels.Deep(norm: NormalizationType.None));
        sd["unembed.b_U"] = sd["unembed.b_U"].to(ScalarType.Float64);
        string path = PathOf("f64.pt");
        PyTorchPickler.PickleStateDict(path, sd);
        Assert.Contains("'unembed.b_U' in", Refusal(() => ModelCheckpoint.Load(path, Plain)));
        Assert.Contains("has dtype Float64, model expects Float32", Refusal(() => ModelCheckpoint.Load(path, Plain)));

        using var stream = File.Create(PathOf("nested.pt"));
        PyTorchPickler.PickleStateDict(stream, new Dictionary<string, object> { ["model"] = new Dictionary<string, Tensor> { ["x"] = zeros(2) } });
        stream.Close();
        Assert.Contains("holds Hashtable under 'model': expected a state_dict of tensors", Refusal(() => PyTorchCheckpoint.LoadStateDict(PathOf("nested.pt"))));
    }
}
