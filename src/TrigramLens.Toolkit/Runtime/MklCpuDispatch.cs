using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace TrigramLens.Runtime;

/// <summary>
/// Lets the MKL inside libtorch use its AVX-512 matrix kernels on non-Intel CPUs that have AVX-512 (AMD Zen 4 and
/// later). MKL picks its kernels by asking <c>mkl_serv_intel_cpu_true</c> first and the CPU's features second: on AMD it
/// runs AVX2 kernels that pack every operand, where on an Intel CPU with the same features it runs AVX-512 kernels that
/// need no packing for small matrices. This model's matrices are all small (K, N ≤ 75), and the training step runs
/// about 15 % faster with the AVX-512 kernels (docs/training.md, Speed). libtorch links MKL statically but calls that
/// function through its own PLT, so <see cref="Apply"/> points the PLT slot at a function that answers yes, the
/// run-time equivalent of the usual <c>LD_PRELOAD</c> fix. MKL asks once, at its first matrix product, and caches the
/// answer, so this must run before libtorch multiplies anything. It rewrites libtorch's code pointers for the whole
/// process, so it is an opt-in: <see cref="TorchRuntime.Configure"/> with
/// <see cref="TorchRuntimeOptions.MklAvx512OnNonIntel"/> (the command-line tool turns it on at startup). Set
/// <c>TRIGRAMLENS_KEEP_MKL_DISPATCH=1</c> to keep MKL's own choice even then (the two families of kernels round
/// differently, so trained weights differ in their last bits between the two).
/// </summary>
internal static class MklCpuDispatch
{
    public const string KeepVariable = "TRIGRAMLENS_KEEP_MKL_DISPATCH";
    internal const string Library = "libtorch_cpu.so", Function = "mkl_serv_intel_cpu_true";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int IntelCpuTrue();

    // Rooted for the life of the process: libtorch holds a pointer to it. A managed function is fine here because MKL
    // asks once, at its first matrix product, on the thread that runs it.
    static readonly IntelCpuTrue Yes = () => 1;

    /// <summary>What <see cref="Apply"/> did, in a phrase for logs and benchmarks; null until it ran.</summary>
    public static string? Status { get; private set; }

    /// <summary>True when <see cref="Apply"/> redirected MKL's vendor check.</summary>
    public static bool Redirected { get; private set; }

    internal static void Apply()
    {
        if (Status is not null) return;
        try
        {
            Status = Decide();
        }
        catch (Exception e)
        {
            // A speed-up must never stop libtorch from loading: whatever went wrong, MKL keeps its own choice.
            Status = $"MKL's own kernel choice ({Library} could not be read: {e.GetType().Name}: {e.Message})";
        }
    }

    static string Decide()
    {
        if (Environment.GetEnvironmentVariable(KeepVariable) is "1" or "true") return $"MKL's own kernel choice ({KeepVariable} is set)";
        if (!X86Base.IsSupported) return "MKL's own kernel choice (not an x86 CPU)";
        string vendor = Vendor();
        if (vendor == "GenuineIntel") return "MKL's own kernel choice (an Intel CPU: AVX-512 kernels where it has AVX-512)";
        if (!(Avx512F.IsSupported && Avx512F.VL.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512CD.IsSupported))
            return $"MKL's own kernel choice ({vendor} without AVX-512)";

        if (ElfImportSlot.Redirect(Library, Function, Marshal.GetFunctionPointerForDelegate(Yes), out bool called) is { } reason)
            return $"MKL's own kernel choice ({reason})";
        Redirected = true;
        return $"MKL's AVX-512 kernels (Intel-only check bypassed on {vendor})"
               + (called ? "; MKL may have chosen its kernels before this ran, in which case it keeps them" : "");
    }

    static string Vendor()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        var bytes = new[] { ebx, edx, ecx }.SelectMany(BitConverter.GetBytes).ToArray();
        return Encoding.ASCII.GetString(bytes);
    }
}
