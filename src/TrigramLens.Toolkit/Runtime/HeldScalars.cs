using TorchSharp;

namespace TrigramLens.Runtime;

/// <summary>
/// Scalars for libtorch calls, made once and held for the life of the process. A TorchSharp <c>Scalar</c> made on the
/// fly — by an implicit conversion (<c>x * 0.5</c>), or inside TorchSharp itself (<c>a + b</c>, <c>add_(b)</c> and
/// <c>square()</c> pass an implicit <c>alpha = 1</c> or exponent 2) — is unreachable once its handle is read, so the
/// garbage collector may free it while libtorch still reads it: an intermittent native crash. The toolkit passes held
/// scalars instead (<c>a.add(b, HeldScalars.One)</c>) or makes them with <c>using var s = x.ToScalar()</c>; the test
/// suite reads the compiled code for any call that does not (<c>ScalarLifetimeScan</c>).
/// </summary>
public static class HeldScalars
{
    static HeldScalars() => TorchRuntime.EnsureLoaded();

    /// <summary>0, for comparisons (<c>gt</c>, <c>ne</c>).</summary>
    public static Scalar Zero { get; } = 0.ToScalar();

    /// <summary>1: the <c>alpha</c> of a plain <c>add</c>.</summary>
    public static Scalar One { get; } = 1.ToScalar();
}
