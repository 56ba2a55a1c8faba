using TrigramLens.Hooks;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>
/// Runs a model with a transcoder spliced in: the output hook's activation is replaced by the transcoder's
/// reconstruction of what the input hook saw in the same forward pass (the rest of the model is unchanged).
/// </summary>
public static class TranscoderSplice
{
    /// <summary>
    /// Attaches the splice until the handle is disposed. The input hook must fire before the output hook (e.g.
    /// <c>blocks.0.hook_resid_mid</c> before <c>blocks.0.hook_mlp_out</c>); its activation is only read.
    /// </summary>
    public static HookHandle Attach(HookedTransformer model, Transcoder transcoder)
    {
        var cfg = transcoder.Cfg;
        Tensor? input = null;
        return model.Hooks(
            (cfg.hook_name, (activation, _) =>
            {
                input = activation;
                return null;
            }),
            (cfg.hook_name_out, (activation, hook) =>
            {
                var x = input ?? throw new InvalidOperationException(
                    $"{hook.Name} fired before {cfg.hook_name}: a transcoder's input hook must come first in the forward pass");
                input = null;
                if (activation.shape[^1] != cfg.d_out)
                    throw new ArgumentException($"{hook.Name} is {activation.shape[^1]} wide; the transcoder writes d_out = {cfg.d_out}");
                return transcoder.call(x);
            }));
    }

    /// <summary>Logits [batch, pos, d_vocab] of the model with the transcoder in place of its output hook.</summary>
    public static Tensor Run(HookedTransformer model, Transcoder transcoder, Tensor tokens)
    {
        using var splice = Attach(model, transcoder);
        return model.call(tokens);
    }
}
