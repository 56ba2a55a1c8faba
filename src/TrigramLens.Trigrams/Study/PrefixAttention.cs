using TorchSharp;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Trigrams.Study;

/// <summary>
/// What the model does at the trigram prefixes inside the analysis set: at the second token <c>b</c> of a prefix at
/// positions (p, p + 1) it should attend to the first token <c>a</c> at p and predict the completion at p + 2. Only
/// prefixes whose completion lies inside the sequence count (p ≤ seq_len − 3).
/// </summary>
public static class PrefixAttention
{
    /// <summary>The in-data prefixes: rows of <paramref name="positions"/> whose completion is in the sequence.</summary>
    /// <param name="positions">[n, 2] (row, p) of every prefix (<c>TrigramDataset.TrigramPositions</c>)</param>
    /// <returns>[m, 2]</returns>
    public static Tensor Completed(Tensor positions, long seqLen)
    {
        using var lastStart = (seqLen - 3).ToScalar();
        return positions[positions[.., 1].le(lastStart)];
    }

    /// <summary>Of the in-data prefixes, those after which the model's argmax at p + 1 is the token at p + 2.</summary>
    /// <param name="logits">[rows, pos, d_vocab]</param>
    /// <param name="tokens">[rows, pos]</param>
    public static Count InContextCompletions(Tensor logits, Tensor tokens, Tensor positions)
    {
        using var scope = NewDisposeScope();
        using var one = 1L.ToScalar();
        using var two = 2L.ToScalar();
        var completed = Completed(positions, tokens.shape[1]);
        var rows = TensorIndex.Tensor(completed[.., 0]);
        var predicted = logits[rows, TensorIndex.Tensor(completed[.., 1].add(one, One))].argmax(-1);     // [m]
        var actual = tokens[rows, TensorIndex.Tensor(completed[.., 1].add(two, One))];
        return new Count(predicted.eq(actual).sum().item<long>(), completed.shape[0]);
    }

    /// <summary>The attention weight from each in-data prefix's second token (query p + 1) to its first (key p).</summary>
    /// <param name="pattern">[rows, q_pos, k_pos] one head's pattern</param>
    public static double[] PreviousTokenAttention(Tensor pattern, Tensor positions)
    {
        using var scope = NewDisposeScope();
        using var one = 1L.ToScalar();
        var completed = Completed(positions, pattern.shape[1]);
        var weights = pattern[TensorIndex.Tensor(completed[.., 0]), TensorIndex.Tensor(completed[.., 1].add(one, One)),
            TensorIndex.Tensor(completed[.., 1])];
        return weights.to(ScalarType.Float64).data<double>().ToArray();
    }
}
