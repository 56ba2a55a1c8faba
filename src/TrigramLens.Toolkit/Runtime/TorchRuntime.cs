using System.Runtime.InteropServices;
using TorchSharp;

namespace TrigramLens.Runtime;

/// <summary>
/// One place that loads libtorch and turns the many ways it can fail into one readable error. Everything in the
/// toolkit that touches tensors calls <see cref="EnsureLoaded"/> first; loading changes nothing else in the process.
/// Process-wide tuning is an explicit opt-in (<see cref="Configure"/>).
/// </summary>
public static class TorchRuntime
{
    static readonly Lock Gate = new();
    static bool _loaded;

    const string Advice = "Rebuild with `dotnet build` so the native libraries are placed (and patched for this system) beside the program.";

    /// <summary>Loads the native libtorch backend once; throws <see cref="TorchRuntimeException"/> if it cannot.</summary>
    public static void EnsureLoaded()
    {
        if (_loaded) return;
        lock (Gate)
        {
            if (_loaded) return;
            Preload();
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException
                                           or EntryPointNotFoundException or BadImageFormatException)
            {
                throw new TorchRuntimeException($"libtorch could not be loaded ({LoaderReason(e.GetBaseException().Message)}). {Advice}", e);
            }
            _loaded = true;
        }
    }

    /// <summary>
    /// Applies process-wide settings the host opts into (see <see cref="TorchRuntimeOptions"/>), loading libtorch first.
    /// Call it once, at startup, before any tensor work: the MKL setting is read by MKL at the process's first matrix
    /// product. Calling it again changes nothing that is already set.
    /// </summary>
    public static void Configure(TorchRuntimeOptions options)
    {
        EnsureLoaded();
        if (options.MklAvx512OnNonIntel) MklCpuDispatch.Apply();
    }

    /// <summary>Which MKL kernels run the matrix products, in a phrase for logs and benchmarks.</summary>
    public static string MatrixKernels => MklCpuDispatch.Status ?? "MKL's own kernel choice (stock libtorch: TorchRuntime.Configure did not ask otherwise)";

    /// <summary>
    /// Loads libLibTorchSharp from where the build puts it, so a failure reports the dynamic loader's own reason
    /// (a missing file or symbol version) instead of TorchSharp's fallback search.
    /// </summary>
    static void Preload()
    {
        if (!OperatingSystem.IsLinux()) return;
        string baseDir = AppContext.BaseDirectory;
        string? path = new[]
        {
            Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", "libLibTorchSharp.so"),
            Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
            Path.Combine(baseDir, "libLibTorchSharp.so"),
        }.FirstOrDefault(File.Exists);
        if (path is null)
        {
            // An unusual layout (a notebook, a host that placed the natives itself): a load by name finds what the host
            // registered. If that fails too, TorchSharp's own search would fail as well, and it narrates that search on
            // the host's console before throwing, so say it in our one line instead.
            if (NativeLibrary.TryLoad("libLibTorchSharp.so", typeof(torch).Assembly, null, out _)) return;
            throw new TorchRuntimeException($"libtorch could not be loaded (libLibTorchSharp.so is not under {Path.Combine(baseDir, "runtimes")}" +
                                            $" and not loadable by name; reference TorchSharp-cpu or another libtorch runtime package). {Advice}", null);
        }
        // TorchSharp ships the binding; libtorch itself comes from a runtime package the application references.
        if (!File.Exists(Path.Combine(Path.GetDirectoryName(path)!, "libtorch.so")))
            throw new TorchRuntimeException($"libtorch could not be loaded: there is no libtorch beside {path}. The application must reference " +
                                            "a libtorch runtime package (TorchSharp-cpu, or a CUDA one) besides TrigramLens.Toolkit.", null);
        try
        {
            NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            throw new TorchRuntimeException($"libtorch could not be loaded from {path}: {LoaderReason(e.Message)}. {Advice}", e);
        }
    }

    /// <summary>.NET puts dlerror's text on the last line of its message; for other errors that is the gist too.</summary>
    static string LoaderReason(string message) =>
        message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? message;
}

/// <summary>The native tensor engine is missing or cannot be loaded on this machine.</summary>
public sealed class TorchRuntimeException(string message, Exception? inner) : Exception(message, inner);
