using TorchSharp.Modules;
using TrigramLens.Hooks;
using static TorchSharp.torch;

namespace TrigramLens.Model;

/// <summary>
/// The MLP: <c>W_in [d_model, d_mlp]</c>, <c>b_in</c>, <c>W_out [d_mlp, d_model]</c>, <c>b_out</c>;
/// hooks <c>hook_pre</c> and <c>hook_post</c> <c>[batch, pos, d_mlp]</c>.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    public Parameter W_in;
    public Parameter b_in;
    public Parameter W_out;
    public Parameter b_out;
    public HookPoint hook_pre = new();
    public HookPoint hook_post = new();

    public ActivationFunction ActFn { get; }

    public Mlp(HookedTransformerConfig cfg) : base("MLP")
    {
        W_in = new Parameter(empty(cfg.d_model, cfg.d_mlp));
        b_in = new Parameter(zeros(cfg.d_mlp));
        W_out = new Parameter(empty(cfg.d_mlp, cfg.d_model));
        b_out = new Parameter(zeros(cfg.d_model));
        ActFn = cfg.act_fn;
        RegisterComponents();
    }

    /// <param name="x">[..., d_model]</param>
    /// <returns>[..., d_model]</returns>
    public override Tensor forward(Tensor x)
    {
        // linear wants [out, in] weights (TL's are [in, out]); it folds the leading dimensions into one addmm.
        var pre = hook_pre.call(nn.functional.linear(x, W_in.t(), b_in));
        var post = hook_post.call(Activate(pre));
        return nn.functional.linear(post, W_out.t(), b_out);
    }

    public Tensor Activate(Tensor pre) => ActFn switch
    {
        ActivationFunction.Relu => nn.functional.relu(pre),
        ActivationFunction.Gelu => nn.functional.gelu(pre),
        _ => throw new NotSupportedException(ActFn.ToString()),
    };
}
