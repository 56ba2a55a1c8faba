using TorchSharp;
using TrigramLens.Hooks;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Browser.Tests;

/// <summary>
/// The C# side of page-vs-C# checks. The page computes in float64 from the float32 weights; the C# model in float32
/// rounds ARENA's logits (up to ~78) by up to ~3e-4. So pages are compared to 1e-4 with a float64 copy of the same
/// C# model (same weights, same code), and to the float32 model within its own rounding (1e-4 relative to the logits).
/// </summary>
public static class ReferenceModels
{
    public const double Tolerance = 1e-4;

    /// <summary>A copy of <paramref name="model"/> computing in float64 (its weights are the float32 values, widened).</summary>
    public static HookedTransformer InFloat64(HookedTransformer model)
    {
        var copy = new HookedTransformer(model.Cfg);
        using (no_grad())
        {
            var source = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, parameter) in copy.named_parameters()) parameter.copy_(source[name]);
        }
        copy.to(ScalarType.Float64);
        return copy;
    }

    /// <summary>Logits <c>[pos][d_vocab_out]</c> of one sequence, with hooks attached for the run.</summary>
    public static double[][] Logits(HookedTransformer model, long[] tokens, params (string, HookFunction)[] hooks)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var logits = model.RunWithHooks(tensor(tokens).view(1, -1), hooks)[0];
        return Enumerable.Range(0, tokens.Length).Select(p => logits[p].to(ScalarType.Float64).data<double>().ToArray()).ToArray();
    }

    public static double MaxAbsDifference(double[][] expected, double[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int p = 0; p < expected.Length; p++)
        {
            Assert.Equal(expected[p].Length, actual[p].Length);
            for (int v = 0; v < expected[p].Length; v++) worst = Math.Max(worst, Math.Abs(expected[p][v] - actual[p][v]));
        }
        return worst;
    }

    /// <summary>
    /// Page logits against the model: within <see cref="Tolerance"/> of its float64 copy, and within float32 rounding
    /// (<see cref="Tolerance"/> × the largest logit) of the model itself. Returns both differences.
    /// </summary>
    public static (double float64, double float32) AssertPageLogits(HookedTransformer model, HookedTransformer model64, long[] tokens,
        double[][] page, string what, params (string, HookFunction)[] hooks)
    {
        double d64 = MaxAbsDifference(Logits(model64, tokens, hooks), page);
        var logits32 = Logits(model, tokens, hooks);
        double d32 = MaxAbsDifference(logits32, page), scale = Math.Max(1, logits32.Max(r => r.Max(Math.Abs)));
        Assert.True(d64 < Tolerance, $"{what}: page differs from the float64 C# model by {d64:E2}");
        Assert.True(d32 < Tolerance * scale, $"{what}: page differs from the float32 C# model by {d32:E2} (logits up to {scale:F1})");
        return (d64, d32);
    }
}
