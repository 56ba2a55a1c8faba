using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrigramLens.Model;

/// <summary>Unembedding: <c>W_U [d_model, d_vocab_out]</c>, <c>b_U [d_vocab_out]</c>.</summary>
public sealed class Unembed : nn.Module<Tensor, Tensor>
{
    public Parameter W_U;
    public Parameter b_U;

    public Unembed(HookedTransformerConfig cfg) : base(nameof(Unembed))
    {
        W_U = new Parameter(empty(cfg.d_model, cfg.d_vocab_out));
        b_U = new Parameter(zeros(cfg.d_vocab_out));
        RegisterComponents();
    }

    /// <param name="residual">[..., d_model]</param>
    /// <returns>[..., d_vocab_out]</returns>
    public override Tensor forward(Tensor residual) => nn.functional.linear(residual, W_U.t(), b_U);
}
