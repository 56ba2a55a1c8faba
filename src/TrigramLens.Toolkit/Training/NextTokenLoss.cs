using TrigramLens.Kernels;
using TrigramLens.Model;
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
    /// The same loss, computed from the model without unembedding the last position (the training path), times
    /// <paramref name="weight"/> (a shard's share of its batch: cheaper inside the loss than as a multiplication after it).
    /// </summary>
    /// <param name="tokens">[batch, pos] int64, pos ≥ 2</param>
    public static Tensor Compute(HookedTransformer model, Tensor tokens, double weight = 1)
    {
        var logits = model.ForwardExceptLast(tokens);                       // [batch, pos − 1, d_vocab]
        return FusedCrossEntropy.Compute(logits.reshape(-1, logits.shape[2]), tokens[.., 1..].reshape(-1), weight);
    }
}
