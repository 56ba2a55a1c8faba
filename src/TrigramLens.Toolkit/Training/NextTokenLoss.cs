using TorchSharp;
using TrigramLens.Kernels;
using TrigramLens.Model;
using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Training;

/// <summary>Next-token cross-entropy: logits at every position but the last, against the tokens one step ahead.</summary>
public static class NextTokenLoss
{
    /// <param name="logits">[batch, pos, d_vocab]</param>
    /// <param name="tokens">[batch, pos] int64</param>
    /// <returns>scalar mean over all <c>batch × (pos − 1)</c> targets</returns>
    public static Tensor Compute(Tensor logits, Tensor tokens)
    {
        long vocab = logits.shape[2];
        var predictions = logits[.., ..^1].reshape(-1, vocab);
        var targets = tokens[.., 1..].reshape(-1);
        return nn.functional.cross_entropy(predictions, targets);
    }

    /// <summary>
    /// The same loss, computed from the model without unembedding the last position, times <paramref name="weight"/>
    /// (a shard's share of its batch: cheaper inside the loss than as a multiplication after it). Inside
    /// <see cref="HandWrittenKernels.Use"/> (the trainer's step) it runs the hand-written attention and cross-entropy.
    /// </summary>
    /// <param name="tokens">[batch, pos] int64, pos ≥ 2</param>
    public static Tensor Compute(HookedTransformer model, Tensor tokens, double weight = 1)
    {
        var logits = model.ForwardExceptLast(tokens);                       // [batch, pos − 1, d_vocab]
        var predictions = logits.reshape(-1, logits.shape[2]);
        var targets = tokens[.., 1..].reshape(-1);
        if (HandWrittenKernels.Active) return FusedCrossEntropy.Compute(predictions, targets, weight);
        var loss = nn.functional.cross_entropy(predictions, targets);
        if (weight == 1) return loss;
        using var scale = weight.ToScalar();
        return loss.mul(scale);
    }

    /// <summary>
    /// The mean next-token loss over every target of <paramref name="tokens"/> [rows, pos], in batches of
    /// <paramref name="batchSize"/> rows on <paramref name="threads"/> single-threaded workers. Batch results are summed in
    /// batch order, so the number is the same for any thread count. Computed without unembedding the last position;
    /// hooks, when attached, see <c>pos − 1</c> positions.
    /// </summary>
    public static double Mean(HookedTransformer model, Tensor tokens, int batchSize = 100, int threads = 1)
    {
        if (batchSize < 1) throw new ArgumentException($"batch size must be positive (got {batchSize})");
        long rows = tokens.shape[0];
        if (rows == 0) return double.NaN;
        int batches = (int)((rows + batchSize - 1) / batchSize);
        var sums = TorchWorkers.Map(batches, threads, b =>
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            long start = (long)b * batchSize;
            var batch = tokens.narrow(0, start, Math.Min(batchSize, rows - start));
            return (double)(Compute(model, batch).item<float>() * batch.shape[0]);
        });
        double total = 0;
        foreach (double sum in sums) total += sum;
        return total / rows;
    }
}
