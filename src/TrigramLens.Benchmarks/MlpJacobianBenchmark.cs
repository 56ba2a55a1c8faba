using System.Diagnostics;
using TrigramLens.Analysis;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Benchmarks;

/// <summary>Timings of the two ways to get MLP Jacobians, on the same rows, in the same process.</summary>
/// <param name="Jacobians">(row, position) Jacobians each way computed per repetition</param>
/// <param name="AutogradSeconds">best of the repetitions, autograd through hooks (the published study's method)</param>
/// <param name="ClosedFormSeconds">best of the repetitions, closed form, materialised as <c>[rows, pos, d_model, d_model]</c></param>
/// <param name="FactorsSeconds">best of the repetitions, closed form left factored as slopes and rank-one maps (every Jacobian
/// is <c>slopes[i] @ maps</c>, exact)</param>
/// <param name="MaxAbsDifference">largest entry-wise disagreement of the two materialised results</param>
public sealed record MlpJacobianTimings(long Jacobians, double AutogradSeconds, double ClosedFormSeconds, double FactorsSeconds, double MaxAbsDifference)
{
    public double Speedup => AutogradSeconds / ClosedFormSeconds;
    public double FactorsSpeedup => AutogradSeconds / FactorsSeconds;
}

public static class MlpJacobianBenchmark
{
    /// <param name="tokens">[rows, pos]</param>
    public static MlpJacobianTimings Run(HookedTransformer model, Tensor tokens, int layer = 0, int repetitions = 3)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (__, cache) = model.RunWithCache(tokens, $"blocks.{layer}.hook_resid_mid");
        using (cache)
        {
            var residMid = cache["resid_mid", layer];
            MlpJacobian.ViaHooks(model, tokens[..1], layer);                 // warm up both paths
            MlpJacobian.ClosedForm(model, layer, residMid[..1]);

            Tensor? viaHooks = null, closed = null;
            double autograd = Best(repetitions, () => { viaHooks?.Dispose(); viaHooks = MlpJacobian.ViaHooks(model, tokens, layer); });
            double closedForm = Best(repetitions, () => { closed?.Dispose(); closed = MlpJacobian.ClosedForm(model, layer, residMid); });
            double factors = Best(repetitions, () =>
            {
                using var s = NewDisposeScope();
                MlpJacobian.Slopes(model, layer, residMid);
                MlpJacobian.RankOneMaps(model, layer);
            });
            double diff = (viaHooks! - closed!).abs().max().item<float>();
            return new MlpJacobianTimings(residMid.shape[0] * residMid.shape[1], autograd, closedForm, factors, diff);
        }
    }

    static double Best(int repetitions, Action work)
    {
        double best = double.MaxValue;
        for (int i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            work();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
