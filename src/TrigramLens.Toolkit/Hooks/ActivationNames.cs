namespace TrigramLens.Hooks;

/// <summary>TransformerLens's <c>utils.get_act_name</c>: short activation names to full hook names.</summary>
public static class ActivationNames
{
    static readonly Dictionary<string, string> Aliases = new()
    {
        ["attn"] = "pattern", ["attn_logits"] = "attn_scores", ["key"] = "k", ["query"] = "q", ["value"] = "v",
        ["mlp_pre"] = "pre", ["mlp_mid"] = "mid", ["mlp_post"] = "post",
    };

    static readonly HashSet<string> AttentionNames = ["k", "v", "q", "z", "rot_k", "rot_q", "result", "pattern", "attn_scores"];
    static readonly HashSet<string> MlpNames = ["pre", "post", "mid", "pre_linear"];
    static readonly HashSet<string> LayerNormNames = ["scale", "normalized"];

    /// <summary>
    /// <c>("pattern", 0)</c> → <c>blocks.0.attn.hook_pattern</c>; <c>("resid_mid", 0)</c> → <c>blocks.0.hook_resid_mid</c>;
    /// <c>("embed")</c> → <c>hook_embed</c>. A name that is already full is returned as is.
    /// </summary>
    public static string Get(string name, int? layer = null)
    {
        if (layer is null && (name.Contains('.') || name.StartsWith("hook_", StringComparison.Ordinal))) return name;
        if (Aliases.TryGetValue(name, out var alias)) name = alias;
        string full = layer is null ? "" : $"blocks.{layer}.";
        if (AttentionNames.Contains(name)) full += "attn.";
        else if (MlpNames.Contains(name)) full += "mlp.";
        full += "hook_" + name;
        if (LayerNormNames.Contains(name) && layer is null) full = "ln_final." + full;
        return full;
    }
}
