using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Checkpoints;

public sealed class ArenaCheckpointTests
{
    /// <summary>ARENA's file is a bare state dict: it records neither its activation nor its (absent) normalisation.</summary>
    static readonly CheckpointLoadOptions Arena = new(ActFn: ActivationFunction.Relu, NormalizationType: NormalizationType.None);

    [ArenaCheckpointFact]
    public void ARENAs_PyTorch_checkpoint_loads_with_its_config_inferred()
    {
        using var model = ModelCheckpoint.Load(ReferenceData.RequireArenaCheckpoint(), Arena);
        var cfg = model.Cfg;
        Assert.Equal((1, 32, 50, 16, 1, 20, 75, NormalizationType.None, ActivationFunction.Relu),
            (cfg.n_layers, cfg.d_model, cfg.n_ctx, cfg.d_head, cfg.n_heads, cfg.d_mlp, cfg.d_vocab, cfg.normalization_type, cfg.act_fn));

        // Cross-check against the raw unpickled tensors.
        var raw = PyTorchCheckpoint.LoadStateDict(ReferenceData.ArenaCheckpoint);
        Assert.Equal(18, raw.Count);
        foreach (var (name, tensor) in raw) Assert.True(tensor.Equals(model.state_dict()[name]), name);
    }

    [ArenaCheckpointFact]
    public void ARENAs_checkpoint_round_trips_through_safetensors()
    {
        string path = Path.Combine(Path.GetTempPath(), $"arena-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var model = ModelCheckpoint.Load(ReferenceData.RequireArenaCheckpoint(), Arena with { FoldValueBiases = true });
            ModelCheckpoint.Save(model, path);
            using var reloaded = ModelCheckpoint.Load(path);
            var tokens = tensor(new long[] { 55, 7, 12, 10, 67, 56 }).view(1, 6);
            using var _ = no_grad();
            Assert.True(model.call(tokens).Equals(reloaded.call(tokens)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
