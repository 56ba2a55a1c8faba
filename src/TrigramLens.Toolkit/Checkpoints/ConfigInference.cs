using System.Globalization;
using System.Text.RegularExpressions;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>
/// Recovers a <see cref="HookedTransformerConfig"/> from a TransformerLens state dict's keys and shapes, and checks a
/// recorded config against them. Sizes, layer and head counts and attention-only are read off the tensors. What the
/// tensors cannot tell is never guessed: the MLP's activation (a state dict does not record it) and, when there are no
/// LayerNorm weights, whether the model has no normalisation or had its LayerNorm folded into its weights (TL's
/// <c>fold_ln</c>, <c>LNPre</c>) must be stated by the caller, or the checkpoint is refused. The hook-only switches
/// (<c>use_attn_result</c>, <c>use_split_qkv_input</c>, <c>use_hook_tokens</c>) change no output and are turned on,
/// so every hook point is available.
/// </summary>
public static partial class ConfigInference
{
    /// <summary>The model keeps an <c>[n_ctx, n_ctx]</c> causal mask per layer; more than this is taken as damage.</summary>
    public const long MaxMaskBytes = 1L << 30;

    /// <param name="actFn">the MLP activation; required unless the model is attention-only</param>
    /// <param name="normalizationType">required when the state dict has no LayerNorm weights (none or LNPre);
    /// with LayerNorm weights it may only be LN</param>
    public static HookedTransformerConfig Infer(IReadOnlyDictionary<string, Tensor> stateDict, string source,
        ActivationFunction? actFn = null, NormalizationType? normalizationType = null)
    {
        var shapes = ReadShapes(stateDict, source);
        var normalization = shapes.LayerNormKey is { } lnKey
            ? normalizationType is null or NormalizationType.LN
                ? NormalizationType.LN
                : throw new CheckpointException(
                    $"{source} has LayerNorm weights ('{lnKey}'), so its normalization_type is LN, not the stated {Name(normalizationType.Value)}")
            : normalizationType switch
            {
                null => throw new CheckpointException(
                    $"{source} records no config and has no LayerNorm weights: it is either a model without normalisation or one whose LayerNorm was folded into its weights (TL's fold_ln); state normalization_type none or LNPre"),
                NormalizationType.LN => throw new CheckpointException(
                    $"normalization_type LN was stated but {source} has no LayerNorm weights ('blocks.0.ln1.w'); a folded LayerNorm is LNPre"),
                NormalizationType stated => stated,
            };
        var activation = shapes.AttnOnly
            ? actFn ?? ActivationFunction.Relu   // no MLP: the activation is never used
            : actFn ?? throw new CheckpointException(
                $"{source} records no config, and a state dict does not say which activation its MLP uses: state act_fn (relu or gelu)");

        try
        {
            var config = new HookedTransformerConfig(
                n_layers: shapes.NLayers, d_model: shapes.DModel, n_ctx: shapes.NCtx, d_head: shapes.DHead, d_vocab: shapes.DVocab,
                n_heads: shapes.NHeads, d_mlp: shapes.AttnOnly ? -1 : shapes.DMlp, d_vocab_out: shapes.DVocabOut,
                act_fn: activation, normalization_type: normalization, attn_only: shapes.AttnOnly,
                use_attn_result: true, use_split_qkv_input: true, use_hook_tokens: true);
            RequireMaskSize(config, source);
            return config;
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"{source}: cannot infer a model config from its shapes ({e.Message})");
        }
    }

    /// <summary>
    /// Checks, before any model is built, that <paramref name="config"/> (e.g. recorded in the file) describes the
    /// tensors: the same sizes, layers, heads, MLP and normalisation. A config that does not fit would otherwise
    /// allocate a model of whatever size it claims.
    /// </summary>
    public static void RequireFits(HookedTransformerConfig config, IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        var shapes = ReadShapes(stateDict, source);
        void Same(string field, long recorded, long actual, string evidence)
        {
            if (recorded != actual)
                throw new CheckpointException($"{source}'s config has {field} = {recorded} but its tensors have {actual} ({evidence})");
        }
        Same("n_layers", config.n_layers, shapes.NLayers, "blocks.N.attn.W_Q");
        Same("d_model", config.d_model, shapes.DModel, "embed.W_E");
        Same("d_vocab", config.d_vocab, shapes.DVocab, "embed.W_E");
        Same("n_ctx", config.n_ctx, shapes.NCtx, "pos_embed.W_pos");
        Same("d_vocab_out", config.d_vocab_out, shapes.DVocabOut, "unembed.W_U");
        Same("n_heads", config.n_heads, shapes.NHeads, "blocks.0.attn.W_Q");
        Same("d_head", config.d_head, shapes.DHead, "blocks.0.attn.W_Q");
        if (config.attn_only != shapes.AttnOnly)
            throw new CheckpointException($"{source}'s config has attn_only = {config.attn_only} but its tensors {(shapes.AttnOnly ? "have no" : "have an")} MLP");
        if (!config.attn_only) Same("d_mlp", config.d_mlp, shapes.DMlp, "blocks.0.mlp.W_in");
        bool weights = shapes.LayerNormKey is not null;
        if (weights != (config.normalization_type == NormalizationType.LN))
            throw new CheckpointException(weights
                ? $"{source}'s config has normalization_type {Name(config.normalization_type)} but it holds LayerNorm weights ('{shapes.LayerNormKey}')"
                : $"{source}'s config has normalization_type LN but it holds no LayerNorm weights");
        RequireMaskSize(config, source);
    }

    static void RequireMaskSize(HookedTransformerConfig config, string source)
    {
        double bytes = (double)config.n_layers * config.n_ctx * config.n_ctx;
        if (bytes > MaxMaskBytes)
            throw new CheckpointException(
                $"{source}: n_ctx = {config.n_ctx} with {config.n_layers} layers would need {bytes / (1 << 30):F1} GiB of causal masks (at most {MaxMaskBytes >> 30} GiB)");
    }

    sealed record Shapes(int NLayers, int DModel, int NCtx, int DHead, int NHeads, int DMlp, int DVocab, int DVocabOut,
        bool AttnOnly, string? LayerNormKey);

    static Shapes ReadShapes(IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        var wE = Require(stateDict, "embed.W_E", 2, source);
        var wPos = Require(stateDict, "pos_embed.W_pos", 2, source);
        var wU = Require(stateDict, "unembed.W_U", 2, source);
        var wQ = Require(stateDict, "blocks.0.attn.W_Q", 3, source);

        int nLayers = 0;
        foreach (var key in stateDict.Keys)
        {
            var match = BlockIndex().Match(key);
            if (!match.Success) continue;
            if (!int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int layer) || layer >= stateDict.Count)
                throw new CheckpointException($"{source} has a key '{CheckpointText.Shorten(key)}' whose layer index no layer count fits");
            nLayers = Math.Max(nLayers, layer + 1);
        }
        for (int layer = 1; layer < nLayers; layer++)
            Require(stateDict, $"blocks.{layer}.attn.W_Q", 3, source);

        var wIn = stateDict.TryGetValue("blocks.0.mlp.W_in", out var w) ? w : null;
        if (wIn is not null && wIn.dim() != 2)
            throw new CheckpointException($"'blocks.0.mlp.W_in' in {source} has shape {StateDictLoader.Shape(wIn)}; expected 2 dimensions");

        string? layerNormKey = null;
        foreach (var key in stateDict.Keys.Where(k => LayerNormWeight().IsMatch(k)).Order(StringComparer.Ordinal))
        {
            layerNormKey ??= key;
            string module = key[..^2];
            if (!stateDict.ContainsKey(module + ".w") || !stateDict.ContainsKey(module + ".b"))
                throw new CheckpointException(
                    $"{source} has '{key}' without its {(key.EndsWith(".w", StringComparison.Ordinal) ? "shift '" + module + ".b'" : "gain '" + module + ".w'")}: only LayerNorm (w and b) is supported, not RMSNorm");
        }

        return new Shapes(nLayers, Size(wE, 1, "embed.W_E", source), Size(wPos, 0, "pos_embed.W_pos", source),
            Size(wQ, 2, "blocks.0.attn.W_Q", source), Size(wQ, 0, "blocks.0.attn.W_Q", source),
            wIn is null ? 0 : Size(wIn, 1, "blocks.0.mlp.W_in", source), Size(wE, 0, "embed.W_E", source),
            Size(wU, 1, "unembed.W_U", source), wIn is null, layerNormKey);
    }

    static int Size(Tensor tensor, int dim, string key, string source) =>
        tensor.shape[dim] is > 0 and <= int.MaxValue and var size
            ? (int)size
            : throw new CheckpointException($"'{key}' in {source} has shape {StateDictLoader.Shape(tensor)}, with no valid size at dimension {dim}");

    static Tensor Require(IReadOnlyDictionary<string, Tensor> stateDict, string key, int rank, string source)
    {
        if (!stateDict.TryGetValue(key, out var tensor))
            throw new CheckpointException($"{source} has no '{key}': not a TransformerLens HookedTransformer state_dict");
        if (tensor.dim() != rank)
            throw new CheckpointException($"'{key}' in {source} has shape {StateDictLoader.Shape(tensor)}; expected {rank} dimensions");
        return tensor;
    }

    static string Name(NormalizationType type) => type switch
    {
        NormalizationType.None => "none",
        _ => type.ToString(),
    };

    [GeneratedRegex(@"^blocks\.([0-9]+)\.")]
    private static partial Regex BlockIndex();

    [GeneratedRegex(@"^(blocks\.[0-9]+\.ln[12]|ln_final)\.[wb]$")]
    private static partial Regex LayerNormWeight();
}
