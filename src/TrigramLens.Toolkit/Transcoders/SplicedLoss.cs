using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Training;
using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>
/// Next-token loss of a model with its transcoder's output hook replaced four ways, over the same tokens: untouched
/// (clean), by the transcoder (spliced), by its mean (mean-ablated) and by zeros (zero-ablated).
/// </summary>
/// <param name="MeanOutput">the mean the mean ablation writes: the output hook's mean over every row and every position
/// but the last (the last position predicts nothing) [d_out]</param>
public sealed record SplicedLoss(double Clean, double Spliced, double MeanAblated, double ZeroAblated, float[] MeanOutput)
{
    /// <summary><c>(L_mean − L_spliced) / (L_mean − L_clean)</c>: 1 when splicing costs nothing, 0 when it is no better than the mean.</summary>
    public double RecoveredVsMeanAblation => (MeanAblated - Spliced) / (MeanAblated - Clean);

    /// <summary><c>(L_zero − L_spliced) / (L_zero − L_clean)</c> (SAELens's <c>ce_loss_score</c> with zero ablation).</summary>
    public double RecoveredVsZeroAblation => (ZeroAblated - Spliced) / (ZeroAblated - Clean);

    /// <summary>Mean next-token cross-entropy (all <c>pos − 1</c> targets of every row), <paramref name="batchRows"/> rows at a time.</summary>
    public static SplicedLoss Measure(HookedTransformer model, Transcoder transcoder, Tensor tokens, int batchRows = 250)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        string hookOut = transcoder.Cfg.hook_name_out;
        var mean = MeanActivation(model, hookOut, tokens, batchRows);
        double clean = Loss(model, tokens, batchRows, null);
        double spliced = Loss(model, tokens, batchRows, () => TranscoderSplice.Attach(model, transcoder));
        double meanAblated = Loss(model, tokens, batchRows, () => model.Hooks((hookOut, Ablation.Mean(mean))));
        double zeroAblated = Loss(model, tokens, batchRows, () => model.Hooks((hookOut, Ablation.Zero)));
        return new SplicedLoss(clean, spliced, meanAblated, zeroAblated, mean.data<float>().ToArray());
    }

    /// <summary>The hook's activation averaged over every row and every position but the last [d].</summary>
    public static Tensor MeanActivation(HookedTransformer model, string hook, Tensor tokens, int batchRows = 250)
    {
        using var _ = no_grad();
        Tensor? sum = null;
        long count = 0;
        for (long start = 0; start < tokens.shape[0]; start += batchRows)
        {
            var batch = tokens.narrow(0, start, Math.Min(batchRows, tokens.shape[0] - start));
            var (_, cache) = model.RunWithCache(batch, hook);
            using (cache)
            {
                var part = cache[hook][.., ..^1].to(ScalarType.Float64).sum([0, 1]);
                sum = sum is null ? part : sum.PlusInPlace(part);
                count += batch.shape[0] * (batch.shape[1] - 1);
            }
        }
        return sum!.Over(count).to(ScalarType.Float32);
    }

    static double Loss(HookedTransformer model, Tensor tokens, int batchRows, Func<HookHandle>? attach)
    {
        using var hooks = attach?.Invoke();
        double total = 0;
        long rows = tokens.shape[0];
        for (long start = 0; start < rows; start += batchRows)
        {
            using var scope = NewDisposeScope();
            var batch = tokens.narrow(0, start, Math.Min(batchRows, rows - start));
            total += NextTokenLoss.Compute(model, batch).item<float>() * (double)batch.shape[0];
        }
        return total / rows;
    }
}
