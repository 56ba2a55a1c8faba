namespace TrigramLens.Kernels;

/// <summary>
/// Where the hand-written kernels may run: only inside <see cref="Use"/>, on the thread that entered it. The trainer's
/// step enters it; everything else (<c>Forward</c>, <c>RunWithCache</c>, <c>RunWithHooks</c>, every analysis) runs one
/// numeric path, libtorch's matmul and softmax, so that attaching a hook never changes a number. Inside the scope an
/// unhooked attention runs <see cref="CausalAttentionKernel"/> (or libtorch's fused attention where the kernel does not
/// apply): the same function to float rounding, not the same bits.
/// </summary>
internal static class HandWrittenKernels
{
    [ThreadStatic] static int _depth;

    public static bool Active => _depth > 0;

    public static Scope Use()
    {
        _depth++;
        return new Scope();
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => _depth--;
    }
}
