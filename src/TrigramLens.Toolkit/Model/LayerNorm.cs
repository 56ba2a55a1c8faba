using TorchSharp.Modules;
using TrigramLens.Hooks;
using static TorchSharp.torch;

namespace TrigramLens.Model;

/// <summary>TransformerLens's LayerNorm (<c>w</c>, <c>b</c>, <c>hook_scale</c>, <c>hook_normalized</c>) over the last dimension.</summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    public Parameter w;
    public Parameter b;
    public HookPoint hook_scale = new();
    public HookPoint hook_normalized = new();
    readonly double _eps;

    public LayerNorm(HookedTransformerConfig cfg, long length) : base(nameof(LayerNorm))
    {
        w = new Parameter(ones(length));
        b = new Parameter(zeros(length));
        _eps = cfg.eps;
        RegisterComponents();
    }

    /// <param name="x">[..., length]</param>
    public override Tensor forward(Tensor x)
    {
        x = x - x.mean([-1], keepdim: true);
        var scale = hook_scale.call(x.pow(2).mean([-1], keepdim: true).add(_eps).sqrt());   // [..., 1]
        return hook_normalized.call(x / scale * w + b);
    }
}
