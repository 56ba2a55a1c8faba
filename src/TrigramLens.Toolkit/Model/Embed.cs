using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrigramLens.Model;

/// <summary>Token embedding: <c>W_E [d_vocab, d_model]</c>.</summary>
public sealed class Embed : nn.Module<Tensor, Tensor>
{
    public Parameter W_E;

    public Embed(HookedTransformerConfig cfg) : base(nameof(Embed))
    {
        W_E = new Parameter(empty(cfg.d_vocab, cfg.d_model));
        RegisterComponents();
    }

    /// <param name="tokens">[batch, pos] int64</param>
    /// <returns>[batch, pos, d_model]</returns>
    public override Tensor forward(Tensor tokens) =>
        W_E.index_select(0, tokens.reshape(-1)).view(tokens.shape[0], tokens.shape[1], W_E.shape[1]);
}
