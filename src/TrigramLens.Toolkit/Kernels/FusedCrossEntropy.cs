using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace TrigramLens.Kernels;

/// <summary>
/// Mean cross-entropy of <c>[rows, classes]</c> logits against int64 targets, times a weight, whose forward pass also
/// writes the gradient, <c>weight · (softmax − onehot) / rows</c>, in the same sweep over each row; the backward pass
/// hands it on (scaled, unless the incoming gradient is 1, as it is when the weighted loss is what is differentiated).
/// libtorch's <c>cross_entropy</c> runs <c>log_softmax</c>, <c>nll_loss</c> and both their backward kernels, each a sweep
/// of its own, and its <c>log_softmax</c> is slow on short rows (a training shard's <c>[4704, 75]</c>: 0.76–1.3 ms
/// forward and backward, against 0.48 ms here). Same values as <c>cross_entropy</c> to float rounding (tests); anything
/// the sweep does not fit (rows shorter than one vector, other dtypes or shapes, no gradient wanted) goes through
/// <c>cross_entropy</c>.
/// </summary>
internal sealed class FusedCrossEntropy : autograd.SingleTensorFunction<FusedCrossEntropy>
{
    const int Width = FastMath.Width;

    public override string Name => nameof(FusedCrossEntropy);

    /// <param name="logits">[rows, classes] float32</param>
    /// <param name="targets">[rows] int64, each in [0, classes)</param>
    /// <param name="weight">multiplies the mean (e.g. a shard's share of its batch)</param>
    /// <returns>scalar: weight × the mean over the rows</returns>
    public static Tensor Compute(Tensor logits, Tensor targets, double weight = 1) =>
        Fits(logits, targets) && logits.requires_grad && is_grad_enabled()
            ? apply(logits, targets, weight)
            : Weighted(nn.functional.cross_entropy(logits, targets), weight);   // also the one to explain bad input

    /// <summary>What the sweep reads as it does: float32 rows of at least one vector and one int64 target per row.</summary>
    static bool Fits(Tensor logits, Tensor targets) =>
        Vector256.IsHardwareAccelerated && logits.dim() == 2 && logits.shape[1] >= Width && logits.dtype == ScalarType.Float32
        && logits.device_type == DeviceType.CPU && targets.dim() == 1 && targets.dtype == ScalarType.Int64
        && targets.shape[0] == logits.shape[0] && targets.device_type == DeviceType.CPU
        && logits.numel() * sizeof(float) < int.MaxValue;

    static Tensor Weighted(Tensor loss, double weight)
    {
        if (weight == 1) return loss;
        using var scale = weight.ToScalar();
        return loss.mul(scale);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var logits = ((Tensor)vars[0]).contiguous();
        var targets = ((Tensor)vars[1]).contiguous();
        double weight = (double)vars[2];
        long rows = logits.shape[0];
        var gradient = empty_like(logits);
        double sum = Sweep(FastMath.Floats(logits), MemoryMarshal.Cast<byte, long>(targets.bytes), FastMath.Floats(gradient), (int)logits.shape[1],
            (float)(weight / rows));
        ctx.save_for_backward([gradient]);
        return tensor((float)(weight * sum / rows));
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var gradient = ctx.get_saved_variables()[0];
        // Not in place: a graph kept for a second backward pass must hand out the same gradient again. Handing out the
        // saved tensor itself is safe where this is used (NextTokenLoss's logits are an intermediate, so nothing
        // accumulates into the gradient in place).
        return [gradOutput.item<float>() == 1f ? gradient : gradient.mul(gradOutput), null!, null!];
    }

    /// <summary>Writes each row's gradient, times <paramref name="scale"/>, and returns the sum of the rows' losses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimised from the first call, not after a tier-0 pass
    static double Sweep(ReadOnlySpan<float> logits, ReadOnlySpan<long> targets, Span<float> gradient, int classes, float scale)
    {
        int rows = targets.Length, whole = classes / Width * Width;
        // The row's last vector starts at classes − Width and so overlaps the whole ones; these lanes are its own.
        nuint last = (nuint)(classes - Width);
        var own = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(whole - (classes - Width))).AsSingle();
        ref float x0 = ref MemoryMarshal.GetReference(logits);
        ref float g0 = ref MemoryMarshal.GetReference(gradient);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            long target = targets[r];
            if ((ulong)target >= (ulong)classes)
                throw new ArgumentException($"target {target} of row {r} is not a class index in [0, {classes})");
            ref float x = ref Unsafe.Add(ref x0, (nint)r * classes);
            ref float g = ref Unsafe.Add(ref g0, (nint)r * classes);

            var top = Vector256.LoadUnsafe(ref x, last);   // max is idempotent: the overlap does no harm
            for (nuint j = 0; j < (nuint)whole; j += (nuint)Width) top = Vector256.Max(top, Vector256.LoadUnsafe(ref x, j));
            var shift = FastMath.HorizontalMax(top);
            float max = shift.ToScalar();
            var total = Vector256<float>.Zero;
            for (nuint j = 0; j < (nuint)whole; j += (nuint)Width)
            {
                var e = FastMath.Exp(Vector256.LoadUnsafe(ref x, j) - shift);
                e.StoreUnsafe(ref g, j);
                total += e;
            }
            var tail = FastMath.Exp(Vector256.LoadUnsafe(ref x, last) - shift);
            total += Vector256.ConditionalSelect(own, tail, Vector256<float>.Zero);
            float partition = Vector256.Sum(total);

            var factor = Vector256.Create(scale / partition);
            for (nuint j = 0; j < (nuint)whole; j += (nuint)Width) (Vector256.LoadUnsafe(ref g, j) * factor).StoreUnsafe(ref g, j);
            Vector256.ConditionalSelect(own, tail * factor, Vector256.LoadUnsafe(ref g, last)).StoreUnsafe(ref g, last);
            Unsafe.Add(ref g, (nint)target) -= scale;
            sum += max + MathF.Log(partition) - Unsafe.Add(ref x, (nint)target);
        }
        return sum;
    }
}
