using TorchSharp;
using TrigramLens.Hooks;
using TrigramLens.Model;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Analysis;

/// <summary>
/// The Jacobian of a block's MLP path, <c>J = d resid_post / d resid_mid − I</c> <c>[d_model_out, d_model_in]</c>, at every
/// position. The MLP acts on each position alone, so one matrix per (row, position) says everything.
/// Two independent ways: autograd through hooks (as the published study did it) and closed form.
/// </summary>
public static class MlpJacobian
{
    /// <summary>
    /// Closed form for a ReLU or GELU MLP without LayerNorm: <c>J = W_outᵀ diag(act'(pre)) W_inᵀ</c>, computed as
    /// <c>Σ_k act'(pre_k) · outer(W_out[k], W_in[:, k])</c>, i.e. one matrix product of the slopes with the
    /// <c>d_mlp</c> fixed rank-one maps, so no per-position intermediate is built.
    /// </summary>
    /// <param name="residMid">[..., d_model] the MLP's inputs</param>
    /// <returns>[..., d_model_out, d_model_in]</returns>
    public static Tensor ClosedForm(HookedTransformer model, int layer, Tensor residMid)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long dModel = model.Cfg.d_model;
        var slopes = Slopes(model, layer, residMid);
        long[] shape = [.. residMid.shape[..^1], dModel, dModel];
        return matmul(slopes.reshape(-1, slopes.shape[^1]), RankOneMaps(model, layer)).view(shape).MoveToOuterDisposeScope();
    }

    /// <summary>The MLP's activation slopes <c>act'(x W_in + b_in)</c>: <c>[..., d_mlp]</c>. Jacobians are <c>slopes @ RankOneMaps</c>.</summary>
    public static Tensor Slopes(HookedTransformer model, int layer, Tensor residMid)
    {
        var mlp = ClosedFormMlp(model, layer);
        using var _ = no_grad();
        return ActivationSlope(mlp.ActFn, matmul(residMid, mlp.W_in).add_(mlp.b_in, One));
    }

    /// <summary>
    /// The <c>d_mlp</c> fixed maps <c>outer(W_out[k], W_in[:, k])</c>, flattened: <c>[d_mlp, d_model_out · d_model_in]</c>.
    /// </summary>
    public static Tensor RankOneMaps(HookedTransformer model, int layer)
    {
        var mlp = ClosedFormMlp(model, layer);
        using var _ = no_grad();
        long dModel = model.Cfg.d_model;
        return (mlp.W_out.unsqueeze(2) * mlp.W_in.T.unsqueeze(1)).reshape(mlp.W_in.shape[1], dModel * dModel);
    }

    static Mlp ClosedFormMlp(HookedTransformer model, int layer)
    {
        var mlp = model.blocks[layer].mlp ?? throw new InvalidOperationException("This model is attention-only: it has no MLP.");
        LayerNormFree.Require(model, "MlpJacobian's closed form", "MlpJacobian.ViaHooks differentiates through ln2");
        return mlp;
    }

    /// <summary>
    /// Autograd through hooks, the way the published study computed it: for each row, the sequence is copied once
    /// per output dimension, <c>hook_resid_mid</c> is replaced by a leaf that requires grad, <c>hook_resid_post</c> is
    /// captured, and a single backward pass with identity output gradients (copy <c>c</c> asks for output <c>c</c>)
    /// yields the row's Jacobian at every position.
    /// </summary>
    /// <param name="tokens">[batch, pos]</param>
    /// <returns>[batch, pos, d_model_out, d_model_in]</returns>
    public static Tensor ViaHooks(HookedTransformer model, Tensor tokens, int layer)
    {
        int dModel = model.Cfg.d_model;
        long batch = tokens.shape[0], pos = tokens.shape[1];
        Tensor? input = null, output = null;
        using var hooks = model.Hooks(
            (ActivationNames.Get("resid_mid", layer), (activation, _) => input = activation.detach().requires_grad_(true)),
            (ActivationNames.Get("resid_post", layer), (activation, _) => { output = activation; return null; }));
        using var grad = enable_grad();
        using var scope = NewDisposeScope();
        var identity = eye(dModel);
        var selectOutput = identity.unsqueeze(1).expand(dModel, pos, dModel);          // [copy, pos, out]
        var rows = new Tensor[batch];
        for (long row = 0; row < batch; row++)
        {
            using var step = NewDisposeScope();
            model.call(tokens[row].unsqueeze(0).expand(dModel, pos));
            var gradient = autograd.grad([output!], [input!], [selectOutput])[0];        // [copy = out, pos, in]
            rows[row] = (gradient.permute(1, 0, 2) - identity).MoveToOuterDisposeScope();
        }
        return stack(rows).MoveToOuterDisposeScope();
    }

    static Tensor ActivationSlope(ActivationFunction act, Tensor pre)
    {
        // Scalars made explicitly and held until the end: a temporary from an implicit conversion can be freed by the
        // garbage collector while libtorch still reads it.
        using var zero = 0.ToScalar();
        using var half = 0.5.ToScalar();
        using var minusHalf = (-0.5).ToScalar();
        using var one = 1.ToScalar();
        using var sqrt2 = Math.Sqrt(2).ToScalar();
        using var sqrt2Pi = Math.Sqrt(2 * Math.PI).ToScalar();
        return act switch
        {
            ActivationFunction.Relu => pre.gt(zero).to(pre.dtype),
            // d/dx [x Φ(x)] = Φ(x) + x φ(x) = ½ (1 + erf(x / √2)) + x e^(−x²/2) / √(2π)
            ActivationFunction.Gelu => special.erf(pre.div(sqrt2)).add_(one, One).mul_(half)
                .add_(pre.mul(pre.mul(pre).mul_(minusHalf).exp_()).div_(sqrt2Pi), One),
            _ => throw new NotSupportedException($"No closed-form derivative for {act}"),
        };
    }
}
