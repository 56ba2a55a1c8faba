using System.Runtime.InteropServices;

namespace TrigramLens.Runtime;

/// <summary>
/// Flush-to-zero / denormals-are-zero for the calling thread, through libtorch's own switch
/// (the static <c>at::Context::setFlushDenormal</c>, what PyTorch's <c>torch.set_flush_denormal</c> calls; TorchSharp does not
/// expose it). The x86 MXCSR register is per thread: it affects this thread, and the OpenMP workers libtorch creates
/// for it afterwards (new threads inherit the floating-point environment), not workers that already exist —
/// <see cref="TorchThread"/> sets it on a fresh thread before libtorch runs anything there.
/// </summary>
internal static class DenormalFlushing
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate byte SetFlushDenormal(byte on);

    static readonly Lazy<SetFlushDenormal?> Setter = new(Resolve);

    /// <returns>whether the CPU and libtorch support it (false: nothing changed)</returns>
    public static bool SetForCurrentThread(bool enabled) => Setter.Value is { } set && set(enabled ? (byte)1 : (byte)0) != 0;

    static SetFlushDenormal? Resolve()
    {
        TorchRuntime.EnsureLoaded();
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        // Already loaded by TorchSharp; dlopen by soname returns that copy.
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var library)) return null;
        return NativeLibrary.TryGetExport(library, "_ZN2at7Context16setFlushDenormalEb", out var setter)   // static bool at::Context::setFlushDenormal(bool)
            ? Marshal.GetDelegateForFunctionPointer<SetFlushDenormal>(setter)
            : null;
    }
}
