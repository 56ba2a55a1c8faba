using TorchSharp.Modules;
using TrigramLens.Hooks;
using static TorchSharp.torch;

namespace TrigramLens.Model;

/// <summary>Unembedding: <c>W_U [d_model, d_vocab_out]</c>, <c>b_U [d_vocab_out]</c>; hooks <c>hook_in</c> and <c>hook_out</c> (TL ≥ 3.0).</summary>
public sealed class Unembed : nn.Module<Tensor, Tensor>
{
    public Parameter W_U;
    public Parameter b_U;
    public HookPoint hook_in = new();    // [batch, pos, d_model]
    public HookPoint hook_out = new();   // [batch, pos, d_vocab_out]

    public Unembed(HookedTransformerConfig cfg) : base(nameof(Unembed))
    {
        W_U = new Parameter(empty(cfg.d_model, cfg.d_vocab_out));
        b_U = new Parameter(zeros(cfg.d_vocab_out));
        RegisterComponents();
    }

    /// <param name="residual">[..., d_model]</param>
    /// <returns>[..., d_vocab_out]</returns>
    public override Tensor forward(Tensor residual) =>
        hook_out.call(nn.functional.linear(hook_in.call(residual), W_U.t(), b_U));
}
