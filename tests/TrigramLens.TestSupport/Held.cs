using TorchSharp;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Testing;

/// <summary>
/// Tensor arithmetic for tests, with every scalar held until libtorch has read it. TorchSharp's operators with a number
/// (<c>x * 0.5</c>), <c>a + b</c> (an implicit alpha of 1) and <c>arange</c> make temporary scalars that the garbage
/// collector may free mid-call, an intermittent native crash (docs/reliability.md); tests run in parallel and allocate a
/// lot, so they are held to the same rule as the library (each test assembly scans itself: ScalarLifetimeScan).
/// </summary>
public static class Held
{
    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    public static Tensor Add(Tensor a, double b)
    {
        using var s = b.ToScalar();
        return a.add(s, One);
    }

    public static Tensor Mul(Tensor a, double factor)
    {
        using var s = factor.ToScalar();
        return a.mul(s);
    }

    public static Tensor Div(Tensor a, double divisor)
    {
        using var s = divisor.ToScalar();
        return a.div(s);
    }

    /// <summary><c>a</c> with <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public static Tensor Fill(Tensor a, Tensor mask, double value)
    {
        using var s = value.ToScalar();
        return a.masked_fill(mask, s);
    }

    /// <summary>0, 1, ..., n − 1 as int64 (<c>arange(n)</c>).</summary>
    public static Tensor Range(long n) => tensor(Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray());
}
