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

    /// <summary>Loads the native libtorch backend once; throws <see cref="TorchRuntimeException"/> if it cannot.</summary>
    public static void EnsureLoaded()
    {
        if (_loaded) return;
        lock (Gate)
        {
            if (_loaded) return;
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException
                                           or EntryPointNotFoundException or BadImageFormatException)
            {
                throw new TorchRuntimeException(
                    $"libtorch could not be loaded ({LoaderReason()}). " +
                    "Rebuild with `dotnet build` so the native libraries are placed and patched for this system.", e);
            }
            _loaded = true;
        }
    }

    /// <summary>The dynamic loader's own reason, found by loading the library where the build puts it.</summary>
    static string LoaderReason()
    {
        string baseDir = AppContext.BaseDirectory;
        string[] candidates =
        [
            Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", "libLibTorchSharp.so"),
            Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
            Path.Combine(baseDir, "libLibTorchSharp.so"),
        ];
        string? path = candidates.FirstOrDefault(File.Exists);
        if (path is null) return "libLibTorchSharp.so is missing from " + baseDir;
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
            return "libLibTorchSharp.so loads, but a libtorch dependency does not";
        }
        catch (DllNotFoundException e)
        {
            // The first line of the loader's message names the missing file or symbol version.
            return e.Message.Split('\n', 2)[0].Trim();
        }
    }
}

/// <summary>The native tensor engine is missing or cannot be loaded on this machine.</summary>
public sealed class TorchRuntimeException(string message, Exception inner) : Exception(message, inner);
