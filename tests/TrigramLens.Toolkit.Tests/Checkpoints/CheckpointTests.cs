using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Checkpoints;

public sealed class CheckpointTests() : TempDirectoryTests("trigramlens-ckpt-")
{
    string PathOf(string name) => Path.Combine(Dir, name);

    [Fact]
    public void Saved_model_reloads_bit_identically_with_its_config()
    {
        var cfg = TinyModels.Deep(splitQkv: true);
        using var model = new HookedTransformer(cfg);
        ModelCheckpoint.Save(model, PathOf("m.safetensors"), new Dictionary<string, string> { ["note"] = "hello" });

        using var reloaded = ModelCheckpoint.Load(PathOf("m.safetensors"));
        Assert.Equal(cfg, reloaded.Cfg);
        foreach (var (name, tensor) in model.state_dict())
            Assert.True(tensor.Equals(reloaded.state_dict()[name]), name);
        Assert.Equal("hello", ModelCheckpoint.ReadMetadata(PathOf("m.safetensors"))["note"]);
        Assert.Single(Directory.GetFiles(Dir));   // no temporary file left behind
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_file_intact()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        string path = PathOf("m.safetensors");
        ModelCheckpoint.Save(model, path);
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<InvalidOperationException>(() =>
            TrigramLens.IO.AtomicFile.Write(path, s => { s.Write(new byte[100]); throw new InvalidOperationException("crash"); }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(Dir));
    }

    [Fact]
    public void Truncated_safetensors_is_one_clear_error()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        string path = PathOf("m.safetensors");
        ModelCheckpoint.Save(model, path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("truncated", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 }, "shorter than a header")]
    [InlineData(new byte[] { 255, 255, 255, 255, 0, 0, 0, 0, 1, 2 }, "header length")]
    [InlineData(new byte[] { 4, 0, 0, 0, 0, 0, 0, 0, (byte)'n', (byte)'o', (byte)'p', (byte)'e' }, "not a JSON object")]
    public void Garbage_files_are_one_clear_error(byte[] content, string expected)
    {
        string path = PathOf("garbage.safetensors");
        File.WriteAllBytes(path, content);
        Assert.Contains(expected, Assert.Throws<CheckpointException>(() => SafetensorsFile.ReadHeader(path)).Message);
        // Loading a model first asks which kind of file it is: these are neither kind.
        Assert.Contains("neither a PyTorch checkpoint", Assert.Throws<CheckpointException>(() => ModelCheckpoint.Load(path)).Message);
    }

    [Fact]
    public void A_truncated_PyTorch_zip_is_one_clear_error()
    {
        string path = PathOf("broken.pt");
        File.WriteAllBytes(path, [.. "PK\x03\x04"u8, .. new byte[200]]);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("not a readable PyTorch", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Missing_file_is_a_clear_error() =>
        Assert.Contains("no checkpoint", Assert.Throws<CheckpointException>(() => ModelCheckpoint.Load(PathOf("none.pt"))).Message);

    static Dictionary<string, Tensor> StateDictOf(HookedTransformer model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

    [Fact]
    public void Wrong_shape_names_the_key_and_both_shapes()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        var sd = StateDictOf(model);
        sd["blocks.0.attn.W_Q"] = zeros(1, 32, 8);
        var e = Assert.Throws<CheckpointException>(() => StateDictLoader.Load(model, sd, "test"));
        Assert.Contains("'blocks.0.attn.W_Q'", e.Message);
        Assert.Contains("[1, 32, 8]", e.Message);
        Assert.Contains("[1, 32, 16]", e.Message);
    }

    [Fact]
    public void Wrong_dtype_missing_and_unexpected_keys_are_rejected()
    {
        using var model = new HookedTransformer(TinyModels.Arena());

        var wrongType = StateDictOf(model);
        wrongType["unembed.b_U"] = zeros(75, ScalarType.Float64);
        Assert.Contains("Float64", Assert.Throws<CheckpointException>(() => StateDictLoader.Load(model, wrongType, "t")).Message);

        var missing = StateDictOf(model);
        missing.Remove("blocks.0.mlp.b_in");
        Assert.Contains("missing 'blocks.0.mlp.b_in'", Assert.Throws<CheckpointException>(() => StateDictLoader.Load(model, missing, "t")).Message);

        var extra = StateDictOf(model);
        extra["blocks.0.mlp.W_gate"] = zeros(3);
        Assert.Contains("unexpected key 'blocks.0.mlp.W_gate'", Assert.Throws<CheckpointException>(() => StateDictLoader.Load(model, extra, "t")).Message);
    }

    [Fact]
    public void Attention_buffers_are_optional_and_a_failed_load_changes_nothing()
    {
        using var source = new HookedTransformer(TinyModels.Arena(seed: 1));
        using var target = new HookedTransformer(TinyModels.Arena(seed: 2));
        var sd = StateDictOf(source);
        sd.Remove("blocks.0.attn.mask");
        sd.Remove("blocks.0.attn.IGNORE");
        var bad = new Dictionary<string, Tensor>(sd) { ["unembed.W_U"] = zeros(2, 2) };
        var before = target.W_E.clone();
        Assert.Throws<CheckpointException>(() => StateDictLoader.Load(target, bad, "t"));
        Assert.True(before.Equals(target.W_E));

        StateDictLoader.Load(target, sd, "t");
        Assert.True(source.W_E.Equals(target.W_E));
    }

    [Fact]
    public void Config_is_inferred_from_shapes()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.LN));
        var cfg = ConfigInference.Infer(model.state_dict(), "t", ActivationFunction.Gelu);
        Assert.Equal((2, 12, 9, 4, 3, 16, 11, 13, NormalizationType.LN, false),
            (cfg.n_layers, cfg.d_model, cfg.n_ctx, cfg.d_head, cfg.n_heads, cfg.d_mlp, cfg.d_vocab, cfg.d_vocab_out, cfg.normalization_type, cfg.attn_only));

        using var attnOnly = new HookedTransformer(TinyModels.Deep(attnOnly: true, norm: NormalizationType.None));
        var inferred = ConfigInference.Infer(attnOnly.state_dict(), "t", normalizationType: NormalizationType.None);
        Assert.True(inferred.attn_only);
        Assert.Equal(NormalizationType.None, inferred.normalization_type);
    }

    [Fact]
    public void A_state_dict_without_embeddings_cannot_be_inferred()
    {
        var e = Assert.Throws<CheckpointException>(() => ConfigInference.Infer(new Dictionary<string, Tensor> { ["x"] = zeros(1) }, "t"));
        Assert.Contains("embed.W_E", e.Message);
    }

    [Fact]
    public void Folding_value_biases_changes_no_output()
    {
        var cfg = TinyModels.Deep(norm: NormalizationType.None);
        using var model = new HookedTransformer(cfg);
        using (no_grad()) foreach (var block in model.blocks) block.attn.b_V.normal_(0, 0.5);
        var folded = ValueBiasFolding.Fold(model.state_dict());
        using var foldedModel = new HookedTransformer(cfg);
        StateDictLoader.Load(foldedModel, folded, "folded");

        var tokens = tensor(new long[] { 1, 5, 2, 7, 3 }).view(1, 5);
        using var _ = no_grad();
        Assert.Equal(0f, foldedModel.b_V.abs().max().item<float>());
        Assert.True(model.call(tokens).allclose(foldedModel.call(tokens), atol: 1e-5));
    }
}
