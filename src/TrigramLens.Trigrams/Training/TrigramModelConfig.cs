using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Trigrams.Data;

namespace TrigramLens.Trigrams.Training;

/// <summary>The challenge's architecture (study-spec §2), sized to the data, with every hook switch ARENA turned on.</summary>
public static class TrigramModelConfig
{
    public static HookedTransformerConfig For(TrigramDataConfig data, int seed) => new(
        n_layers: 1, d_model: 32, n_ctx: data.SeqLen, d_head: 16, d_vocab: data.DVocab, n_heads: 1, d_mlp: 20,
        act_fn: ActivationFunction.Relu, normalization_type: NormalizationType.None,
        use_attn_result: true, use_split_qkv_input: true, use_hook_tokens: true, seed: seed);

    /// <summary>
    /// What a bare state dict of the challenge's model (ARENA's <c>trigram_model.pt</c>) does not record: a ReLU MLP and
    /// no LayerNorm (study-spec §2).
    /// </summary>
    public static CheckpointLoadOptions CheckpointOptions { get; } = new(ActFn: ActivationFunction.Relu, NormalizationType: NormalizationType.None);
}
