using System.Runtime.ExceptionServices;
using TorchSharp;

namespace TrigramLens.Runtime;

/// <summary>How a <see cref="TorchThread"/> runs libtorch.</summary>
/// <param name="Threads">intra-op threads (<c>torch.set_num_threads</c>); null keeps libtorch's default (one per core)</param>
/// <param name="FlushDenormals">flush denormal floats to zero on the thread and its OpenMP workers</param>
public sealed record TorchThreadSettings(int? Threads = null, bool FlushDenormals = true);

/// <summary>
/// Runs work on a new thread set up for libtorch before its first tensor operation. libgomp keeps one worker pool per
/// calling thread and creates it on the thread's first parallel region, so the workers inherit that thread's
/// floating-point mode; and <c>omp_set_num_threads</c> is per thread. A dedicated thread makes both hold for all of
/// the work, whatever this process ran on other threads before.
/// </summary>
public static class TorchThread
{
    public static T Run<T>(TorchThreadSettings settings, Func<T> work)
    {
        if (settings.Threads is < 1) throw new ArgumentException($"threads must be positive (got {settings.Threads})");
        TorchRuntime.EnsureLoaded();
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                DenormalFlushing.SetForCurrentThread(settings.FlushDenormals);
                if (settings.Threads is int n) torch.set_num_threads(n);
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, maxStackSize: 16 * 1024 * 1024) { Name = "trigramlens-torch", IsBackground = true };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
