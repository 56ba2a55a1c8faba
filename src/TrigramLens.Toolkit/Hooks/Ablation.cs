using static TorchSharp.torch;

namespace TrigramLens.Hooks;

/// <summary>Ready-made replacement hooks for ablation studies.</summary>
public static class Ablation
{
    /// <summary>Replaces the activation with zeros.</summary>
    public static HookFunction Zero => (activation, _) => zeros_like(activation);

    /// <summary>
    /// Replaces the activation with <paramref name="mean"/>, broadcast over the leading dimensions
    /// (e.g. a <c>[d_model]</c> mean for a <c>[batch, pos, d_model]</c> activation).
    /// </summary>
    public static HookFunction Mean(Tensor mean) => (activation, _) => mean.expand_as(activation).clone();
}
