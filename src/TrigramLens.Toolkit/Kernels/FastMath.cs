using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace TrigramLens.Kernels;

/// <summary>
/// What the kernels share: their vector width, how they see a tensor's memory, and vector math that .NET does not have
/// or does too slowly (its own <c>Vector512.Exp</c> made the cross-entropy sweep take 1.4 ms instead of 0.3).
/// </summary>
internal static class FastMath
{
    /// <summary>Floats per <see cref="Vector256{T}"/>.</summary>
    public const int Width = 8;

    /// <summary>A contiguous CPU tensor's memory as floats (the caller checks dtype and contiguity).</summary>
    public static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>The largest lane of <paramref name="x"/>, in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HorizontalMax(Vector256<float> x)
    {
        x = Vector256.Max(x, Vector256.Shuffle(x, Vector256.Create(4, 5, 6, 7, 0, 1, 2, 3)));
        x = Vector256.Max(x, Vector256.Shuffle(x, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5)));
        return Vector256.Max(x, Vector256.Shuffle(x, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6)));
    }

    /// <summary>
    /// e^x for x ≤ 0 (Cephes' expf: x = n ln 2 + r with |r| ≤ ln 2 / 2, a degree-7 polynomial in r, 2^n through the
    /// exponent bits; within 2 ulp). Inputs below −87 give about 1e-38 instead of a denormal or 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Max(x, Vector256.Create(-87f));
        var n = Vector256.Round(x * Vector256.Create(1.44269504088896341f));
        var r = x - n * Vector256.Create(0.693359375f) - n * Vector256.Create(-2.12194440e-4f);
        var p = Vector256.Create(1.9875691500e-4f);
        p = p * r + Vector256.Create(1.3981999507e-3f);
        p = p * r + Vector256.Create(8.3334519073e-3f);
        p = p * r + Vector256.Create(4.1665795894e-2f);
        p = p * r + Vector256.Create(1.6666665459e-1f);
        p = p * r + Vector256.Create(5.0000001201e-1f);
        p = p * r * r + r + Vector256<float>.One;
        return p * ((Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23).AsSingle();
    }
}
