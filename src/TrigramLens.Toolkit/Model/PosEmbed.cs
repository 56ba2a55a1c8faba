using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrigramLens.Model;

/// <summary>Learned positional embedding: <c>W_pos [n_ctx, d_model]</c>.</summary>
public sealed class PosEmbed : nn.Module<Tensor, Tensor>
{
    public Parameter W_pos;

    public PosEmbed(HookedTransformerConfig cfg) : base(nameof(PosEmbed))
    {
        W_pos = new Parameter(empty(cfg.n_ctx, cfg.d_model));
        RegisterComponents();
    }

    /// <param name="tokens">[batch, pos]; only its shape is used</param>
    /// <returns>[batch, pos, d_model], a broadcast view of the first <c>pos</c> rows</returns>
    public override Tensor forward(Tensor tokens)
    {
        long batch = tokens.shape[0], pos = tokens.shape[1];
        return W_pos.narrow(0, 0, pos).unsqueeze(0).expand(batch, pos, W_pos.shape[1]);
    }
}
