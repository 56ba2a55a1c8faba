using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>
/// What a dictionary's features read and write, through the model's weights (Dunefsky et al.'s dashboards): the
/// direct logit effect of each decoder row, which current tokens drive each encoder column (de-embedding) and which
/// earlier tokens drive it through an attention head (pull-back). Works for a transcoder's <c>W_enc</c> / <c>W_dec</c>
/// and equally for an MLP's own <c>W_in</c> / <c>W_out</c> (its neurons as features). The logit effect is the direct
/// one: exact for an output added to the residual stream with no LayerNorm or later layer after it, up to the biases.
/// </summary>
public static class FeatureDirections
{
    /// <summary><c>W_dec[f] · W_U</c> for every feature: [d_sae, d_vocab_out].</summary>
    public static Tensor LogitEffects(Transcoder transcoder, HookedTransformer model) => LogitEffects(transcoder.W_dec, model);

    /// <summary>Each row of <paramref name="decoderRows"/> [features, d_model] through <c>W_U</c>: [features, d_vocab_out].</summary>
    public static Tensor LogitEffects(Tensor decoderRows, HookedTransformer model)
    {
        RequireWidth(decoderRows.shape[^1], model.Cfg.d_model, "decoder rows");
        using var _ = no_grad();
        return decoderRows.matmul(model.W_U);
    }

    /// <summary><c>W_E · W_enc[:, f]</c> for every feature: how much each token's embedding alone drives it [d_vocab, d_sae].</summary>
    public static Tensor DeEmbedding(Transcoder transcoder, HookedTransformer model) => DeEmbedding(transcoder.W_enc, model);

    /// <summary><c>W_E</c> times encoder columns [d_model, features]: [d_vocab, features].</summary>
    public static Tensor DeEmbedding(Tensor encoderColumns, HookedTransformer model)
    {
        RequireWidth(encoderColumns.shape[0], model.Cfg.d_model, "encoder columns");
        using var _ = no_grad();
        return model.W_E.matmul(encoderColumns);
    }

    /// <summary>
    /// <c>W_E · W_V W_O · W_enc[:, f]</c> through head <paramref name="head"/> of layer <paramref name="layer"/>: how much
    /// a token attended to drives each feature [d_vocab, d_sae] (biases and LayerNorm left out).
    /// </summary>
    public static Tensor AttentionPullBack(Transcoder transcoder, HookedTransformer model, int layer = 0, int head = 0) =>
        AttentionPullBack(transcoder.W_enc, model, layer, head);

    /// <summary>The pull-back of encoder columns [d_model, features]: [d_vocab, features].</summary>
    public static Tensor AttentionPullBack(Tensor encoderColumns, HookedTransformer model, int layer = 0, int head = 0)
    {
        RequireWidth(encoderColumns.shape[0], model.Cfg.d_model, "encoder columns");
        if (layer < 0 || layer >= model.Cfg.n_layers || head < 0 || head >= model.Cfg.n_heads)
            throw new ArgumentException($"no head {head} in layer {layer} (the model has {model.Cfg.n_layers} layer(s) of {model.Cfg.n_heads} head(s))");
        using var _ = no_grad();
        var attn = model.blocks[layer].attn;
        return model.W_E.matmul(attn.W_V[head]).matmul(attn.W_O[head]).matmul(encoderColumns);
    }

    /// <summary>The <paramref name="n"/> largest (or, with <paramref name="largest"/> false, smallest) entries of a vector,
    /// as (index, value), in order.</summary>
    public static IReadOnlyList<(int Index, float Value)> Top(Tensor vector, int n, bool largest = true)
    {
        using var _ = no_grad();
        var (values, indices) = vector.topk(Math.Min(n, (int)vector.shape[0]), largest: largest, sorted: true);
        using (values)
        using (indices)
        {
            var v = values.data<float>().ToArray();
            var i = indices.data<long>().ToArray();
            return i.Select((index, j) => ((int)index, v[j])).ToList();
        }
    }

    static void RequireWidth(long width, int dModel, string what)
    {
        if (width != dModel) throw new ArgumentException($"the {what} are {width} wide, the model's d_model is {dModel}: they do not read or write its residual stream");
    }
}
