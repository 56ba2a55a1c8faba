using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Hooks;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Model;

/// <summary>
/// TransformerLens's <c>LayerNorm</c> (<c>normalization_type</c> LN: gain <c>w</c>, shift <c>b</c>) or <c>LayerNormPre</c>
/// (LNPre: <c>w</c> and <c>b</c> folded into the weights that read its output, so it only centres and scales), over the
/// last dimension. <c>hook_scale</c> is <c>sqrt(mean(x_c²) + eps)</c> of the centred input <c>x_c</c>
/// (<c>[..., 1]</c>); <c>hook_normalized</c> is <c>x_c / scale</c>, before <c>w</c> and <c>b</c> (TL ≥ 3.0).
/// </summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>Null for LNPre.</summary>
    public Parameter? w;
    /// <summary>Null for LNPre.</summary>
    public Parameter? b;
    public HookPoint hook_scale = new();
    public HookPoint hook_normalized = new();
    readonly Scalar _eps;   // held, not converted per call: libtorch reads it after the call has let go of a temporary

    public LayerNorm(HookedTransformerConfig cfg, long length) : base(nameof(LayerNorm))
    {
        if (cfg.normalization_type == NormalizationType.LN)
        {
            w = new Parameter(ones(length));
            b = new Parameter(zeros(length));
        }
        else if (cfg.normalization_type != NormalizationType.LNPre)
            throw new ArgumentException($"a LayerNorm needs normalization_type LN or LNPre (got {cfg.normalization_type})");
        _eps = cfg.eps.ToScalar();
        RegisterComponents();
    }

    /// <summary>False for LNPre (LayerNorm folded into the following weights).</summary>
    public bool HasWeights => w is not null;

    /// <param name="x">[..., length]</param>
    public override Tensor forward(Tensor x)
    {
        x = x - x.mean([-1], keepdim: true);
        var scale = hook_scale.call(x.mul(x).mean([-1], keepdim: true).add(_eps, One).sqrt());   // [..., 1]
        var normalized = hook_normalized.call(x / scale);
        return w is null ? normalized : (normalized * w).add(b!, One);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _eps.Dispose();
        base.Dispose(disposing);
    }
}
