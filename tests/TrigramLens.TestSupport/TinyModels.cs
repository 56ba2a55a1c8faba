using TrigramLens.Model;

namespace TrigramLens.Testing;

/// <summary>Small configs that exercise every code path in milliseconds.</summary>
public static class TinyModels
{
    /// <summary>ARENA's trigram architecture (1 layer, 1 head, ReLU MLP, no LayerNorm, every hook switch on).</summary>
    public static HookedTransformerConfig Arena(int? seed = 40) => new(
        n_layers: 1, d_model: 32, n_ctx: 50, d_head: 16, d_vocab: 75, n_heads: 1, d_mlp: 20,
        act_fn: ActivationFunction.Relu, normalization_type: NormalizationType.None,
        use_attn_result: true, use_split_qkv_input: true, use_hook_tokens: true, seed: seed);

    /// <summary>Two layers, three heads, GELU and LayerNorm: what the 1×1 model does not cover.</summary>
    public static HookedTransformerConfig Deep(bool splitQkv = false, bool attnResult = false, NormalizationType norm = NormalizationType.LN,
        ActivationFunction act = ActivationFunction.Gelu, bool attnOnly = false, int seed = 7, int dHead = 4) => new(
        n_layers: 2, d_model: 12, n_ctx: 9, d_head: dHead, d_vocab: 11, n_heads: 3, d_mlp: 16, d_vocab_out: 13,
        act_fn: act, normalization_type: norm, attn_only: attnOnly,
        use_attn_result: attnResult, use_split_qkv_input: splitQkv, use_hook_tokens: true, seed: seed);
}
