using TrigramLens.Trigrams.Data;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Evaluation;

/// <summary>A trigram whose completion a predictor got wrong, and what it predicted instead.</summary>
public sealed record TrigramMiss(int A, int B, int C, int Predicted);

/// <summary>
/// How many trigrams a predictor completes: for each <c>(a, b, c)</c>, its argmax after <c>[a, b]</c> against <c>c</c>.
/// Reported as <c>k / n</c>, as a fraction, and with every miss.
/// </summary>
public sealed record TrigramAccuracy(int Correct, int Total, IReadOnlyList<TrigramMiss> Misses)
{
    public double Fraction => Total == 0 ? 0 : (double)Correct / Total;

    public override string ToString() => $"{Correct} / {Total} ({Fraction:P1})";

    /// <param name="trigrams">the set, in its own order</param>
    /// <param name="predictions">[n_trigrams] int64, the predicted completion of each trigram's prefix</param>
    public static TrigramAccuracy FromPredictions(TrigramSet trigrams, Tensor predictions)
    {
        if (predictions.numel() != trigrams.Count)
            throw new ArgumentException($"{predictions.numel()} predictions for {trigrams.Count} trigrams");
        long[] predicted = predictions.to(ScalarType.Int64).data<long>().ToArray();
        var misses = trigrams.Trigrams
            .Select((t, i) => (t, p: (int)predicted[i]))
            .Where(x => x.p != x.t.C)
            .Select(x => new TrigramMiss(x.t.A, x.t.B, x.t.C, x.p))
            .ToList();
        return new TrigramAccuracy(trigrams.Count - misses.Count, trigrams.Count, misses);
    }

    /// <param name="logits">[n_trigrams, d_vocab] logits (or any scores) for each trigram's completion</param>
    public static TrigramAccuracy FromLogits(TrigramSet trigrams, Tensor logits)
    {
        using var scope = NewDisposeScope();
        return FromPredictions(trigrams, logits.argmax(-1));
    }
}
