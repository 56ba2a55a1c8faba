using TrigramLens.Model;

namespace TrigramLens.Checkpoints;

/// <summary>
/// How to build a model from a checkpoint. The architecture fields describe what a checkpoint without a recorded
/// config (a PyTorch state dict, a safetensors file written by other tools) cannot tell; a file written by
/// <see cref="ModelCheckpoint.Save"/> records its config, which is used instead.
/// </summary>
/// <param name="FoldValueBiases">Apply TransformerLens's <c>fold_value_biases</c> after loading.</param>
/// <param name="ActFn">The MLP activation (TL's <c>act_fn</c>); a state dict without it is refused unless the model is attention-only.</param>
/// <param name="NormalizationType">TL's <c>normalization_type</c>; a state dict without LayerNorm weights is refused unless
/// this says none or LNPre. With LayerNorm weights it can only be LN.</param>
/// <param name="Config">The whole architecture, as TL's <c>HookedTransformer(cfg).load_state_dict(...)</c>: the state dict
/// must fit it exactly, and its hook switches are kept (inference turns them all on).</param>
public sealed record CheckpointLoadOptions(
    bool FoldValueBiases = false,
    ActivationFunction? ActFn = null,
    NormalizationType? NormalizationType = null,
    HookedTransformerConfig? Config = null);
