using TrigramLens.Transcoders;
using static TorchSharp.torch;

namespace TrigramLens.Testing;

/// <summary>Transcoders with seeded random weights, for tests that need one of a given shape or architecture.</summary>
public static class SyntheticTranscoders
{
    /// <summary>Every parameter 0.5 · N(0, 1), thresholds 0.4 · U(0, 1).</summary>
    public static Transcoder Random(TranscoderConfig cfg, int seed)
    {
        using var g = new Generator((ulong)seed);
        var t = new Transcoder(cfg);
        using var _ = no_grad();
        foreach (var (_, p) in t.NamedParameters()) p.copy_(Held.Mul(randn(p.shape, generator: g), 0.5));
        t.threshold?.copy_(Held.Mul(rand(cfg.d_sae, generator: g), 0.4));
        return t;
    }

    /// <summary>A transcoder of the 1-layer models' MLP (<c>resid_mid → mlp_out</c>) by SAELens architecture name; TopK ones keep
    /// <paramref name="k"/> features.</summary>
    public static Transcoder Random(string architecture, int dModel, int features, int seed, int k = 3)
    {
        var (activation, skip) = TranscoderConfig.ParseArchitecture(architecture) ?? throw new ArgumentException($"no architecture '{architecture}'");
        return Random(new TranscoderConfig(dModel, features, dModel, activation, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out",
            activation == TranscoderActivation.TopK ? k : null, skip), seed);
    }
}
