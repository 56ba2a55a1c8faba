using TrigramLens.Model;
using TrigramLens.Training;
using TrigramLens.Trigrams.Data;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Evaluation;

/// <summary>The numbers ARENA logs for a trigram model.</summary>
/// <param name="Accuracy">trigram accuracy on 2-token prefixes</param>
/// <param name="MeanCorrectProbability">mean softmax probability of each trigram's completion after its prefix</param>
/// <param name="Loss">mean next-token cross-entropy over a dataset, all positions</param>
/// <param name="LossAsFraction">1 at the uniform loss <c>ln d_vocab</c>, 0 at the optimum <c>(1 − p) ln d_vocab</c></param>
public sealed record TrigramModelMetrics(TrigramAccuracy Accuracy, double MeanCorrectProbability, double? Loss, double? LossAsFraction)
{
    /// <summary>Trigram accuracy and mean correct probability only (no dataset needed).</summary>
    public static TrigramModelMetrics OnTrigrams(HookedTransformer model, TrigramSet trigrams)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var logits = model.call(trigrams.Prefixes())[.., 1];                                    // [n, d_vocab]
        var correct = logits.softmax(-1).gather(1, trigrams.Completions().unsqueeze(1));
        return new TrigramModelMetrics(
            TrigramAccuracy.FromLogits(trigrams, logits), correct.mean().item<float>(), null, null);
    }

    /// <summary>All four numbers: trigram metrics plus loss on <paramref name="dataset"/>'s tokens.</summary>
    public static TrigramModelMetrics Evaluate(HookedTransformer model, TrigramDataset dataset, int batchSize = 100)
    {
        var onTrigrams = OnTrigrams(model, dataset.Trigrams);
        double loss = DatasetLoss(model, dataset.Tokens, batchSize);
        return onTrigrams with { Loss = loss, LossAsFraction = LossFraction(loss, dataset.Config.DVocab, dataset.Config.ResolvedTrigramProb) };
    }

    /// <summary>Mean next-token loss over every target of <paramref name="tokens"/> (<see cref="NextTokenLoss.Mean"/>):
    /// the same number for any thread count.</summary>
    public static double DatasetLoss(HookedTransformer model, Tensor tokens, int batchSize = 100, int threads = 1) =>
        NextTokenLoss.Mean(model, tokens, batchSize, threads);

    /// <summary><c>(loss − (1 − p) ln V) / (p ln V)</c>: 1 for uniform guessing, 0 for the best achievable loss.</summary>
    public static double LossFraction(double loss, int dVocab, double trigramProb)
    {
        double uniform = Math.Log(dVocab);
        double optimal = uniform * (1 - trigramProb);
        return (loss - optimal) / (uniform - optimal);
    }
}
