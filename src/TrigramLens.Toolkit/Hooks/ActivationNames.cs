using System.Text.RegularExpressions;

namespace TrigramLens.Hooks;

/// <summary>
/// TransformerLens's <c>utils.get_act_name</c> (v3.5.1, <c>utilities/components_utils.py</c>): short activation names
/// to full hook names, with the same aliases, the same layer types and the same compact forms.
/// </summary>
public static partial class ActivationNames
{
    static readonly Dictionary<string, string> Aliases = new()
    {
        ["attn"] = "pattern", ["attn_logits"] = "attn_scores", ["key"] = "k", ["query"] = "q", ["value"] = "v",
        ["mlp_pre"] = "pre", ["mlp_mid"] = "mid", ["mlp_post"] = "post",
    };

    static readonly Dictionary<string, string> LayerTypeAliases = new()
    {
        ["a"] = "attn", ["m"] = "mlp", ["b"] = "", ["block"] = "", ["blocks"] = "", ["attention"] = "attn",
    };

    static readonly HashSet<string> AttentionNames = ["k", "v", "q", "z", "rot_k", "rot_q", "result", "pattern", "attn_scores"];
    static readonly HashSet<string> MlpNames = ["pre", "post", "mid", "pre_linear"];
    static readonly HashSet<string> LayerNormNames = ["scale", "normalized"];

    /// <summary>
    /// <c>("pattern", 0)</c> → <c>blocks.0.attn.hook_pattern</c>; <c>("resid_mid", 0)</c> → <c>blocks.0.hook_resid_mid</c>;
    /// <c>("scale", 0, "ln1")</c> → <c>blocks.0.ln1.hook_scale</c>; <c>("scale")</c> → <c>ln_final.hook_scale</c>;
    /// <c>("embed")</c> → <c>hook_embed</c>; compact forms as TL's: <c>"k6"</c> → <c>blocks.6.attn.hook_k</c>,
    /// <c>"scale4ln1"</c> → <c>blocks.4.ln1.hook_scale</c>. A full name (with a dot, or starting <c>hook_</c>) without
    /// layer or layer type is returned as is.
    /// </summary>
    /// <param name="layerType">which of a block's components, where the name alone does not say: <c>"ln1"</c>, <c>"ln2"</c>
    /// for the LayerNorm hooks; TL's aliases <c>"a"</c>/<c>"attention"</c> (attn), <c>"m"</c> (mlp), <c>"b"</c>/<c>"block"</c> (the block itself)</param>
    public static string Get(string name, int? layer = null, string? layerType = null)
    {
        if (layer is null && layerType is null && (name.Contains('.') || name.StartsWith("hook_", StringComparison.Ordinal))) return name;
        string? layerText = layer?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Compact().Match(name) is { Success: true } match)
        {
            name = match.Groups[1].Value;
            layerText = match.Groups[2].Value;
            layerType = match.Groups[3].Value;
        }
        if (Aliases.TryGetValue(name, out var alias)) name = alias;

        string full = layerText is null ? "" : $"blocks.{layerText}.";
        if (AttentionNames.Contains(name)) layerType = "attn";
        else if (MlpNames.Contains(name)) layerType = "mlp";
        else if (layerType is not null && LayerTypeAliases.TryGetValue(layerType, out var typeAlias)) layerType = typeAlias;
        if (!string.IsNullOrEmpty(layerType)) full += layerType + ".";
        full += "hook_" + name;
        if (LayerNormNames.Contains(name) && layerText is null) full = "ln_final." + full;
        return full;
    }

    // TL: re.match(r"([a-z]+)(\d+)([a-z]?.*)", name), anchored at the start only.
    [GeneratedRegex(@"^([a-z]+)(\d+)([a-z]?.*)")]
    private static partial Regex Compact();
}
