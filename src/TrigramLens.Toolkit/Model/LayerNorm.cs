using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Hooks;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Model;

/// <summary>TransformerLens's LayerNorm (<c>w</c>, <c>b</c>, <c>hook_scale</c>, <c>hook_normalized</c>) over the last dimension.</summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    public Parameter w;
    public Parameter b;
    public HookPoint hook_scale = new();
    public HookPoint hook_normalized = new();
    readonly Scalar _eps;   // held, not converted per call: libtorch reads it after the call has let go of a temporary

    public LayerNorm(HookedTransformerConfig cfg, long length) : base(nameof(LayerNorm))
    {
        w = new Parameter(ones(length));
        b = new Parameter(zeros(length));
        _eps = cfg.eps.ToScalar();
        RegisterComponents();
    }

    /// <param name="x">[..., length]</param>
    public override Tensor forward(Tensor x)
    {
        x = x - x.mean([-1], keepdim: true);
        var scale = hook_scale.call(x.mul(x).mean([-1], keepdim: true).add(_eps, One).sqrt());   // [..., 1]
        return hook_normalized.call((x / scale * w).add(b, One));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _eps.Dispose();
        base.Dispose(disposing);
    }
}
