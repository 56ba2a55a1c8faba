using TorchSharp;
using static TorchSharp.torch;

namespace TrigramLens.Runtime;

/// <summary>
/// Tensor arithmetic whose TorchSharp spelling would make a temporary scalar (<see cref="HeldScalars"/>): <c>square()</c>
/// passes an exponent of 2, <c>a + b</c> and <c>add_(b)</c> an alpha of 1.
/// </summary>
internal static class HeldArithmetic
{
    /// <summary><c>x²</c> elementwise, as <c>x * x</c> (what libtorch computes for <c>pow(x, 2)</c>).</summary>
    public static Tensor Squared(this Tensor x) => x.mul(x);

    /// <summary><c>a + b</c>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, HeldScalars.One);

    /// <summary><c>a += b</c>, in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, HeldScalars.One);

    /// <summary><c>a · s</c> for a number <paramref name="s"/>.</summary>
    public static Tensor Times(this Tensor a, double s)
    {
        using var scalar = s.ToScalar();
        return a.mul(scalar);
    }

    /// <summary><c>a · s</c> for an integer <paramref name="s"/> (an integer tensor stays integer).</summary>
    public static Tensor Times(this Tensor a, long s)
    {
        using var scalar = s.ToScalar();
        return a.mul(scalar);
    }

    /// <summary><c>a / s</c> for a number <paramref name="s"/>.</summary>
    public static Tensor Over(this Tensor a, double s)
    {
        using var scalar = s.ToScalar();
        return a.div(scalar);
    }

    /// <summary><c>max(a, s)</c> elementwise.</summary>
    public static Tensor AtLeast(this Tensor a, double s)
    {
        using var scalar = s.ToScalar();
        return a.clamp_min(scalar);
    }

    /// <summary>Where <c>a &gt; 0</c>.</summary>
    public static Tensor Positive(this Tensor a) => a.gt(HeldScalars.Zero);

    /// <summary>Where <c>a ≠ 0</c>.</summary>
    public static Tensor NonZero(this Tensor a) => a.ne(HeldScalars.Zero);
}
