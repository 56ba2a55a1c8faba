using TorchSharp;
using TrigramLens.Model;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Analysis;

/// <summary>
/// Pre-softmax attention scores from one source of the residual stream alone, to separate what a head attends to
/// by position from what it attends to by token. Scores are <c>q · k</c> without the <c>1 / sqrt(d_head)</c> scale.
/// Models with LayerNorm are refused (<see cref="NotSupportedException"/>): their <c>ln1</c> sits between the
/// embeddings and <c>W_Q</c>, <c>W_K</c>.
/// </summary>
public static class QkScores
{
    /// <summary>
    /// Scores from positional embeddings alone: <c>q = W_pos W_Q + b_Q</c>, <c>k = W_pos W_K + b_K</c>, for the first
    /// <paramref name="positions"/> positions. Unmasked. Returns <c>[q_pos, k_pos]</c>.
    /// </summary>
    public static Tensor Positional(HookedTransformer model, int layer, int head, int? positions = null)
    {
        using var _ = no_grad();
        var wPos = model.W_pos.narrow(0, 0, positions ?? model.Cfg.n_ctx);
        return FromResidual(model, wPos, layer, head);
    }

    /// <summary>
    /// Scores from token embeddings alone (<c>hook_embed</c> of <paramref name="tokens"/>, no positional part).
    /// With <paramref name="causal"/>, keys after the query are <c>-inf</c>. Returns <c>[q_pos, k_pos]</c>.
    /// </summary>
    /// <param name="tokens">[pos] int64</param>
    public static Tensor TokenOnly(HookedTransformer model, Tensor tokens, int layer, int head, bool causal)
    {
        using var _ = no_grad();
        var scores = FromResidual(model, model.W_E.index_select(0, tokens), layer, head);
        if (!causal) return scores;
        long n = tokens.shape[0];
        using var masked = double.NegativeInfinity.ToScalar();   // held until libtorch has read it
        return scores.masked_fill(ones(n, n, ScalarType.Bool).triu(1), masked);
    }

    /// <summary>
    /// TokenOnly scores of a query-token × key-token grid, softmaxed over keys: row <c>i</c> is how strongly token
    /// <c>tokens[i]</c>, as a query, prefers each token as a key, independent of position. Returns <c>[n, n]</c>.
    /// </summary>
    public static Tensor TokenPairMap(HookedTransformer model, Tensor tokens, int layer, int head) =>
        TokenOnly(model, tokens, layer, head, causal: false).softmax(-1);

    /// <param name="residual">[n, d_model]</param>
    /// <returns>[n, n] = (x W_Q + b_Q)(x W_K + b_K)^T</returns>
    static Tensor FromResidual(HookedTransformer model, Tensor residual, int layer, int head)
    {
        LayerNormFree.Require(model, "QkScores");
        var attn = model.blocks[layer].attn;
        var q = matmul(residual, attn.W_Q[head]).add_(attn.b_Q[head], One);
        var k = matmul(residual, attn.W_K[head]).add_(attn.b_K[head], One);
        return matmul(q, k.T);
    }
}
