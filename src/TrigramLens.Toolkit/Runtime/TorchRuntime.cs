using System.Runtime.InteropServices;
using TorchSharp;

namespace TrigramLens.Runtime;

/// <summary>
/// One place that loads libtorch and turns the many ways it can fail into one readable error.
/// Everything in the toolkit that touches tensors calls <see cref="EnsureLoaded"/> first.
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
            string? library = Preload();
            var (stdout, stderr) = (Console.Out, Console.Error);
            try
            {
                // On failure TorchSharp narrates its search (and copies files) on the console; our error says it in a line.
                Console.SetOut(TextWriter.Null);
                Console.SetError(TextWriter.Null);
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException
                                           or EntryPointNotFoundException or BadImageFormatException)
            {
                string reason = library is null && OperatingSystem.IsLinux()
                    ? $"libLibTorchSharp.so is not under {Path.Combine(AppContext.BaseDirectory, "runtimes")}"
                    : LoaderReason(e.GetBaseException().Message);
                throw new TorchRuntimeException($"libtorch could not be loaded ({reason}). {Advice}", e);
            }
            finally
            {
                Console.SetOut(stdout);
                Console.SetError(stderr);
            }
            MklCpuDispatch.Apply();   // before libtorch's first matrix product
            _loaded = true;
        }
    }

    /// <summary>
    /// Loads libLibTorchSharp from where the build puts it, so a failure reports the dynamic loader's own reason
    /// (a missing file or symbol version) instead of TorchSharp's fallback search. Returns the path loaded, if any.
    /// </summary>
    static string? Preload()
    {
        if (!OperatingSystem.IsLinux()) return null;
        string baseDir = AppContext.BaseDirectory;
        string? path = new[]
        {
            Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", "libLibTorchSharp.so"),
            Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
            Path.Combine(baseDir, "libLibTorchSharp.so"),
        }.FirstOrDefault(File.Exists);
        if (path is null) return null;   // an unusual layout: let TorchSharp search
        try
        {
            NativeLibrary.Load(path);
            return path;
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
public sealed class TorchRuntimeException(string message, Exception inner) : Exception(message, inner);
