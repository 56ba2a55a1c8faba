using System.Text.RegularExpressions;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>
/// Recovers a <see cref="HookedTransformerConfig"/> from a TransformerLens state dict's keys and shapes.
/// Sizes, layer and head counts, LayerNorm and attention-only are read off the tensors; the activation function is
/// not recorded in a state dict, so it is taken from the caller (default relu). The hook-only switches
/// (<c>use_attn_result</c>, <c>use_split_qkv_input</c>, <c>use_hook_tokens</c>) change no output and are turned on,
/// so every hook point is available.
/// </summary>
public static partial class ConfigInference
{
    public static HookedTransformerConfig Infer(
        IReadOnlyDictionary<string, Tensor> stateDict, string source, ActivationFunction actFn = ActivationFunction.Relu)
    {
        var wE = Require(stateDict, "embed.W_E", 2, source);
        var wPos = Require(stateDict, "pos_embed.W_pos", 2, source);
        var wU = Require(stateDict, "unembed.W_U", 2, source);
        var wQ = Require(stateDict, "blocks.0.attn.W_Q", 3, source);

        int nLayers = stateDict.Keys
            .Select(k => BlockIndex().Match(k))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value) + 1)
            .DefaultIfEmpty(0)
            .Max();
        stateDict.TryGetValue("blocks.0.mlp.W_in", out var wIn);
        bool layerNorm = stateDict.ContainsKey("blocks.0.ln1.w");

        try
        {
            return new HookedTransformerConfig(
                n_layers: nLayers,
                d_model: (int)wE.shape[1],
                n_ctx: (int)wPos.shape[0],
                d_head: (int)wQ.shape[2],
                d_vocab: (int)wE.shape[0],
                n_heads: (int)wQ.shape[0],
                d_mlp: wIn is null ? -1 : (int)wIn.shape[1],
                d_vocab_out: (int)wU.shape[1],
                act_fn: actFn,
                normalization_type: layerNorm ? NormalizationType.LN : NormalizationType.None,
                attn_only: wIn is null,
                use_attn_result: true,
                use_split_qkv_input: true,
                use_hook_tokens: true);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"{source}: cannot infer a model config from its shapes ({e.Message})");
        }
    }

    static Tensor Require(IReadOnlyDictionary<string, Tensor> stateDict, string key, int rank, string source)
    {
        if (!stateDict.TryGetValue(key, out var tensor))
            throw new CheckpointException($"{source} has no '{key}': not a TransformerLens HookedTransformer state_dict");
        if (tensor.dim() != rank)
            throw new CheckpointException($"'{key}' in {source} has shape {StateDictLoader.Shape(tensor)}; expected {rank} dimensions");
        return tensor;
    }

    [GeneratedRegex(@"^blocks\.(\d+)\.")]
    private static partial Regex BlockIndex();
}
