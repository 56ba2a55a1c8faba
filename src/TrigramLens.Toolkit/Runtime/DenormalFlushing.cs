using System.Runtime.InteropServices;

namespace TrigramLens.Runtime;

/// <summary>
/// Flush-to-zero / denormals-are-zero for the calling thread, through libtorch's own switch
/// (<c>at::globalContext().setFlushDenormal</c>, what PyTorch's <c>torch.set_flush_denormal</c> calls; TorchSharp does not
/// expose it). The x86 MXCSR register is per thread: it affects this thread, and the OpenMP workers libtorch creates
/// for it afterwards (new threads inherit the floating-point environment), not workers that already exist —
/// <see cref="TorchThread"/> sets it on a fresh thread before libtorch runs anything there.
/// </summary>
public static class DenormalFlushing
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate nint GlobalContext();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate byte SetFlushDenormal(nint context, byte on);

    static readonly Lazy<(nint context, SetFlushDenormal? setter)> Entry = new(Resolve);

    /// <returns>whether the CPU and libtorch support it (false: nothing changed)</returns>
    public static bool SetForCurrentThread(bool enabled)
    {
        var (context, setter) = Entry.Value;
        if (context == 0 || setter is null) return false;
        return setter(context, enabled ? (byte)1 : (byte)0) != 0;
    }

    static (nint, SetFlushDenormal?) Resolve()
    {
        TorchRuntime.EnsureLoaded();
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return (0, null);
        // Already loaded by TorchSharp; dlopen by soname returns that copy.
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var library)) return (0, null);
        if (!NativeLibrary.TryGetExport(library, "_ZN2at13globalContextEv", out var globalContext)) return (0, null);                 // at::globalContext()
        if (!NativeLibrary.TryGetExport(library, "_ZN2at7Context16setFlushDenormalEb", out var setter)) return (0, null);          // at::Context::setFlushDenormal(bool)
        nint context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(globalContext)();
        return (context, Marshal.GetDelegateForFunctionPointer<SetFlushDenormal>(setter));
    }
}
