using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace TrigramLens.Kernels;

/// <summary>
/// Causal softmax attention, <c>softmax(q kᵀ / sqrt(d_head) + causal mask) v</c> per head, forward and backward, for
/// short sequences with small heads, written as vector loops over one sequence and head at a time (all of it fits in
/// L1). It reads Q, K and V straight out of one fused projection <c>[batch, pos, 3 · heads · d_head]</c> (Q's heads,
/// then K's, then V's) and hands back one gradient in that layout, so the model projects with one GEMM each way.
/// libtorch's <c>scaled_dot_product_attention</c> is built for long sequences: on a trigram shard (96 sequences of 49
/// positions, <c>d_head</c> 16) it took 1.6–1.7 ms forward and backward, these loops 1.3 ms, and the fused projection
/// saves two GEMMs and two additions of the input's gradient each way. Scores for 8 keys at a time come from
/// <c>d_head</c> vector multiply-adds against a transposed copy of the keys; the pattern is kept for the backward pass
/// (<c>[batch · heads, pos, pos rounded up to 8]</c>). Agrees with the hooked path's matmul and softmax to float
/// rounding (tests). <see cref="Supports"/>: <c>d_head</c> a multiple of 8, float32 on the CPU.
/// </summary>
internal sealed class CausalAttentionKernel : autograd.SingleTensorFunction<CausalAttentionKernel>
{
    const int W = FastMath.Width;

    public override string Name => nameof(CausalAttentionKernel);

    /// <summary>Longest sequence the kernel takes: its single-threaded loops are O(pos²) per sequence, and longer ones
    /// were not measured against libtorch's blocked, multithreaded attention.</summary>
    public const int MaxPositions = 128;

    /// <param name="x">the attention's input, [batch, pos, d_model]</param>
    public static bool Supports(Tensor x, int heads, int dHead) =>
        Vector256.IsHardwareAccelerated && x.dim() == 3 && Problem(x.shape[0], x.shape[1], heads, dHead, x.dtype, x.device_type) is null;

    /// <summary>Why the kernel does not take this shape, or null when it does (the hardware aside).</summary>
    static string? Problem(long batch, long pos, int heads, long dHead, ScalarType dtype, DeviceType device)
    {
        if (dtype != ScalarType.Float32 || device != DeviceType.CPU) return $"the kernel takes float32 on the CPU, not {dtype} on {device}";
        if (heads < 1) return $"heads must be positive (got {heads})";
        if (dHead <= 0 || dHead % W != 0) return $"d_head {dHead} is not a positive multiple of {W}";
        if (pos < 1 || pos > MaxPositions) return $"{pos} positions: the kernel takes 1 to {MaxPositions}";
        // The loops index with int and see tensors as spans: the projection and the pattern must stay under 2^31 bytes.
        long rows = batch * pos, padded = (pos + W - 1) / W * W;
        if (rows * 3 * heads * dHead * sizeof(float) >= int.MaxValue || rows * heads * padded * sizeof(float) >= int.MaxValue)
            return $"{batch} sequences of {pos} positions are too many for the kernel's int indexing";
        return null;
    }

    /// <summary>
    /// The kernel on a fused projection. It checks its own preconditions (throwing, with the reason, on anything it was
    /// not written for) rather than trusting the caller to have asked <see cref="Supports"/>.
    /// </summary>
    /// <param name="qkv">[batch, pos, 3 · heads · d_head] float32 on the CPU</param>
    /// <returns>z, [batch, pos, heads · d_head]</returns>
    /// <exception cref="ArgumentException">a shape, head count, length or dtype the kernel does not take</exception>
    /// <exception cref="NotSupportedException">a CPU without hardware 256-bit vectors</exception>
    public static Tensor Compute(Tensor qkv, int heads)
    {
        Check(qkv, heads);
        return apply(qkv, heads);
    }

    static void Check(Tensor qkv, int heads)
    {
        if (!Vector256.IsHardwareAccelerated)
            throw new NotSupportedException("the causal attention kernel needs hardware 256-bit vectors, which this CPU (or runtime setting) does not provide");
        if (qkv.dim() != 3) throw new ArgumentException($"qkv must be [batch, pos, 3 · heads · d_head]; got [{string.Join(", ", qkv.shape)}]");
        if (heads < 1 || qkv.shape[2] % (3 * heads) != 0)
            throw new ArgumentException($"qkv's last dimension {qkv.shape[2]} is not 3 × {heads} heads × d_head");
        if (Problem(qkv.shape[0], qkv.shape[1], heads, qkv.shape[2] / (3 * heads), qkv.dtype, qkv.device_type) is { } problem)
            throw new ArgumentException(problem);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var qkv = ((Tensor)vars[0]).contiguous();
        var shape = new Shape(qkv, (int)vars[1]);
        var z = empty(qkv.shape[0], qkv.shape[1], shape.Heads * shape.D, ScalarType.Float32);
        var pattern = empty(shape.Batch * shape.Heads, shape.T, shape.Padded, ScalarType.Float32);   // row i: keys 0..i, then zeros to its block's end
        Forward(shape, FastMath.Floats(qkv), FastMath.Floats(z), FastMath.Floats(pattern));
        ctx.save_for_backward([qkv, z, pattern]);
        ctx.save_data("heads", shape.Heads);
        return z;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradZ)
    {
        var saved = ctx.get_saved_variables();
        var (qkv, z, pattern) = (saved[0], saved[1], saved[2]);
        var shape = new Shape(qkv, (int)ctx.get_data("heads"));
        var gradQkv = empty_like(qkv);
        Backward(shape, FastMath.Floats(qkv), FastMath.Floats(z), FastMath.Floats(pattern), FastMath.Floats(gradZ.contiguous()), FastMath.Floats(gradQkv));
        return [gradQkv, null!];
    }

    /// <summary>Where sequence n's (batch b, head h) rows start, and how far apart they are.</summary>
    readonly record struct Shape(int Batch, int T, int Heads, int D, int Padded, float Scale)
    {
        public Shape(Tensor qkv, int heads) : this((int)qkv.shape[0], (int)qkv.shape[1], heads, (int)qkv.shape[2] / (3 * heads)) { }

        Shape(int batch, int t, int heads, int d) : this(batch, t, heads, d, (t + W - 1) / W * W, 1f / MathF.Sqrt(d)) { }

        public int Sequences => Batch * Heads;
        public int Stride => 3 * Heads * D;          // between positions in qkv
        public int ZStride => Heads * D;             // between positions in z
        public int Q(int n) => n / Heads * T * Stride + n % Heads * D;
        public int K(int n) => Q(n) + Heads * D;
        public int V(int n) => Q(n) + 2 * Heads * D;
        public int Z(int n) => n / Heads * T * ZStride + n % Heads * D;
        public int P(int n) => n * T * Padded;       // the pattern's rows of sequence n
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimised from the first call, not after a tier-0 pass
    static void Forward(Shape s, Span<float> qkv, Span<float> z, Span<float> pattern)
    {
        int t = s.T, d = s.D, tp = s.Padded, rs = s.Stride, zs = s.ZStride;
        var keysT = new float[d * tp];   // [d_head, padded pos]
        for (int n = 0; n < s.Sequences; n++)
        {
            ref float Q = ref At(qkv, s.Q(n));
            ref float V = ref At(qkv, s.V(n));
            ref float Z = ref At(z, s.Z(n));
            ref float P = ref At(pattern, s.P(n));
            Transpose(ref At(qkv, s.K(n)), rs, keysT, t, d, tp);
            for (int i = 0; i < t; i++)
            {
                ref float row = ref Unsafe.Add(ref P, i * tp);
                Scores(ref Unsafe.Add(ref Q, i * rs), ref keysT[0], ref row, i, d, tp, s.Scale);
                Softmax(ref row, i);
                Combine(ref row, 1, ref V, rs, i + 1, 0, d, ref Unsafe.Add(ref Z, i * zs));   // z_i = Σ_j P_ij v_j
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimised from the first call, not after a tier-0 pass
    static void Backward(Shape s, Span<float> qkv, Span<float> z, Span<float> pattern, Span<float> gz, Span<float> gqkv)
    {
        int t = s.T, d = s.D, tp = s.Padded, rs = s.Stride, zs = s.ZStride;
        var valuesT = new float[d * tp];
        var gradScores = new float[t * tp];   // dS, scaled; row i holds keys 0..i
        ref float dS = ref gradScores[0];
        var scale = Vector256.Create(s.Scale);
        for (int n = 0; n < s.Sequences; n++)
        {
            ref float Q = ref At(qkv, s.Q(n));
            ref float K = ref At(qkv, s.K(n));
            ref float Z = ref At(z, s.Z(n));
            ref float G = ref At(gz, s.Z(n));
            ref float P = ref At(pattern, s.P(n));
            Transpose(ref At(qkv, s.V(n)), rs, valuesT, t, d, tp);
            // Rows: dP_ij = dz_i · v_j; dS_ij = P_ij (dP_ij − dz_i · z_i) / sqrt(d_head); dq_i = Σ_j dS_ij k_j.
            for (int i = 0; i < t; i++)
            {
                ref float row = ref Unsafe.Add(ref dS, i * tp);
                ref float prow = ref Unsafe.Add(ref P, i * tp);
                Scores(ref Unsafe.Add(ref G, i * zs), ref valuesT[0], ref row, i, d, tp, 1f);
                float dot = 0;
                for (int c = 0; c < d; c++) dot += Unsafe.Add(ref G, i * zs + c) * Unsafe.Add(ref Z, i * zs + c);
                var centre = Vector256.Create(dot);
                for (nuint b = 0; b <= (nuint)(i / W * W); b += W)
                    (Vector256.LoadUnsafe(ref prow, b) * (Vector256.LoadUnsafe(ref row, b) - centre) * scale).StoreUnsafe(ref row, b);
                Combine(ref row, 1, ref K, rs, i + 1, 0, d, ref At(gqkv, s.Q(n) + i * rs));
            }
            // Columns: dk_j = Σ_{i ≥ j} dS_ij q_i, dv_j = Σ_{i ≥ j} P_ij dz_i.
            for (int j = 0; j < t; j++)
            {
                Combine(ref Unsafe.Add(ref dS, j * tp + j), tp, ref Q, rs, t - j, j, d, ref At(gqkv, s.K(n) + j * rs));
                Combine(ref Unsafe.Add(ref P, j * tp + j), tp, ref G, zs, t - j, j, d, ref At(gqkv, s.V(n) + j * rs));
            }
        }
    }

    static ref float At(Span<float> span, int offset) => ref Unsafe.Add(ref MemoryMarshal.GetReference(span), offset);

    /// <summary>
    /// out = Σ_m weights[m · stride] · row (first + m), m in [0, count): a weighted sum of d-long rows rowStride apart,
    /// 8 columns at a time, with four partial sums so that consecutive multiply-adds do not wait for each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Combine(ref float weights, int stride, ref float rows, int rowStride, int count, int first, int d, ref float result)
    {
        for (int c = 0; c < d; c += W)
        {
            ref float column = ref Unsafe.Add(ref rows, first * rowStride + c);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int m = 0;
            for (; m + 4 <= count; m += 4)
            {
                a0 += Vector256.Create(Unsafe.Add(ref weights, m * stride)) * Vector256.LoadUnsafe(ref column, (nuint)(m * rowStride));
                a1 += Vector256.Create(Unsafe.Add(ref weights, (m + 1) * stride)) * Vector256.LoadUnsafe(ref column, (nuint)((m + 1) * rowStride));
                a2 += Vector256.Create(Unsafe.Add(ref weights, (m + 2) * stride)) * Vector256.LoadUnsafe(ref column, (nuint)((m + 2) * rowStride));
                a3 += Vector256.Create(Unsafe.Add(ref weights, (m + 3) * stride)) * Vector256.LoadUnsafe(ref column, (nuint)((m + 3) * rowStride));
            }
            for (; m < count; m++) a0 += Vector256.Create(Unsafe.Add(ref weights, m * stride)) * Vector256.LoadUnsafe(ref column, (nuint)(m * rowStride));
            (a0 + a1 + (a2 + a3)).StoreUnsafe(ref result, (nuint)c);
        }
    }

    /// <summary>t rows of d floats, rowStride apart, into [d, padded pos]; the padding columns stay as they are (zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose(ref float x, int rowStride, float[] xT, int t, int d, int tp)
    {
        ref float y = ref xT[0];
        for (int j = 0; j < t; j++)
            for (int c = 0; c < d; c++) Unsafe.Add(ref y, c * tp + j) = Unsafe.Add(ref x, j * rowStride + c);
    }

    /// <summary>
    /// row[j] = scale · (a · b_j) for the blocks of 8 keys that hold keys 0..i; bT is [d, padded pos]. Up to four blocks
    /// are summed side by side in registers, so their chains of multiply-adds overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Scores(ref float a, ref float bT, ref float row, int i, int d, int tp, float scale)
    {
        int blocks = i / W + 1;
        for (int b = 0; b < blocks; b += 4)
        {
            int group = Math.Min(4, blocks - b);
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            ref float bb = ref Unsafe.Add(ref bT, b * W);
            for (int c = 0; c < d; c++)
            {
                var ac = Vector256.Create(Unsafe.Add(ref a, c));
                ref float bc = ref Unsafe.Add(ref bb, c * tp);
                s0 += ac * Vector256.LoadUnsafe(ref bc);
                if (group > 1) s1 += ac * Vector256.LoadUnsafe(ref bc, W);
                if (group > 2) s2 += ac * Vector256.LoadUnsafe(ref bc, 2 * W);
                if (group > 3) s3 += ac * Vector256.LoadUnsafe(ref bc, 3 * W);
            }
            var sc = Vector256.Create(scale);
            ref float out0 = ref Unsafe.Add(ref row, b * W);
            (s0 * sc).StoreUnsafe(ref out0);
            if (group > 1) (s1 * sc).StoreUnsafe(ref out0, W);
            if (group > 2) (s2 * sc).StoreUnsafe(ref out0, 2 * W);
            if (group > 3) (s3 * sc).StoreUnsafe(ref out0, 3 * W);
        }
    }

    /// <summary>Softmax of row[0..i] in place; row[i + 1..] up to the end of i's block becomes 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Softmax(ref float row, int i)
    {
        int last = i / W;   // the block holding key i, the only one with masked keys
        nuint end = (nuint)(last * W);
        var keep = Vector256.LessThanOrEqual(Vector256<int>.Indices, Vector256.Create(i - last * W)).AsSingle();
        var top = Vector256.ConditionalSelect(keep, Vector256.LoadUnsafe(ref row, end), Vector256.Create(float.NegativeInfinity));
        for (nuint b = 0; b < end; b += W) top = Vector256.Max(top, Vector256.LoadUnsafe(ref row, b));
        var max = FastMath.HorizontalMax(top);

        var total = Vector256<float>.Zero;
        for (nuint b = 0; b < end; b += W)
        {
            var e = FastMath.Exp(Vector256.LoadUnsafe(ref row, b) - max);
            e.StoreUnsafe(ref row, b);
            total += e;
        }
        var tail = Vector256.ConditionalSelect(keep, FastMath.Exp(Vector256.LoadUnsafe(ref row, end) - max), Vector256<float>.Zero);
        total += tail;
        var factor = Vector256.Create(1f / Vector256.Sum(total));
        for (nuint b = 0; b < end; b += W) (Vector256.LoadUnsafe(ref row, b) * factor).StoreUnsafe(ref row, b);
        (tail * factor).StoreUnsafe(ref row, end);
    }
}
