using TrigramLens.Hooks;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Analysis;

/// <summary>The two ways to an MLP's Jacobians (<see cref="MlpJacobian"/>) held against each other.</summary>
public static class MlpJacobianCheck
{
    /// <summary>
    /// The largest entry-wise difference between the closed-form Jacobians and those from autograd through hooks, at every
    /// position of <paramref name="tokens"/> [rows, pos].
    /// </summary>
    public static double MaxDisagreement(HookedTransformer model, int layer, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        string residMid = ActivationNames.Get("resid_mid", layer);
        var (__, cache) = model.RunWithCache(tokens, residMid);
        using (cache)
        {
            var closed = MlpJacobian.ClosedForm(model, layer, cache[residMid]);
            var viaHooks = MlpJacobian.ViaHooks(model, tokens, layer);
            return (viaHooks - closed).abs().max().to(ScalarType.Float64).item<double>();
        }
    }
}
