using System.Runtime.ExceptionServices;
using TorchSharp;

namespace TrigramLens.Runtime;

/// <summary>How a <see cref="TorchThread"/> runs libtorch.</summary>
/// <param name="Threads">intra-op threads (<c>torch.set_num_threads</c>); null keeps libtorch's default (one per core)</param>
/// <param name="FlushDenormals">flush denormal floats to zero on the thread and its OpenMP workers</param>
public sealed record TorchThreadSettings(int? Threads = null, bool FlushDenormals = true);

/// <summary>
/// Runs work on a new thread set up for libtorch before its first tensor operation: the one place where the toolkit
/// changes libtorch's thread count and denormal mode, as an explicit opt-in (the trainer's), and restores them.
/// <para>
/// libgomp keeps one worker pool per calling thread and creates it on the thread's first parallel region, so the
/// workers inherit that thread's floating-point mode, and <c>omp_set_num_threads</c> is per thread: a dedicated thread
/// makes both hold for all of the work. Two things leak beyond that thread in libtorch 2.10, and are handled here:
/// <c>set_num_threads</c> also stores a process-wide count that every thread adopts when it first uses libtorch (it
/// is put back when the last run ends, and the caller's own count is fixed before the run starts); and a
/// multiplication kernel first run on a flushing thread keeps flushing on other threads (it is run once on the caller
/// first). Runs at once must ask for the same settings: another combination is refused while one is running.
/// </para>
/// </summary>
public static class TorchThread
{
    static readonly Lock Gate = new();
    static TorchThreadSettings? _active;    // the settings of the runs now going, if any
    static int _running;
    static int _restoreThreads;             // libtorch's process-wide thread count before the first of them started

    public static T Run<T>(TorchThreadSettings settings, Func<T> work)
    {
        if (settings.Threads is < 1) throw new ArgumentException($"threads must be positive (got {settings.Threads})");
        TorchRuntime.EnsureLoaded();
        Enter(settings);
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
            finally
            {
                Leave(settings);
            }
        }, maxStackSize: 16 * 1024 * 1024) { Name = "trigramlens-torch", IsBackground = true };
        try
        {
            thread.Start();
        }
        catch
        {
            Leave(settings);   // the thread never ran
            throw;
        }
        thread.Join();
        failure?.Throw();
        return result;
    }

    static void Enter(TorchThreadSettings settings)
    {
        // On the caller, before the run can touch anything shared: reading the count fixes this thread's own (libtorch
        // initialises a thread's count once, from the process-wide one), and one small product initialises the
        // multiplication kernel in the caller's floating-point mode.
        torch.get_num_threads();
        using (var a = torch.ones(1))
        using (var product = a * a) { }
        lock (Gate)
        {
            if (_active is not null && _active != settings)
                throw new InvalidOperationException(
                    $"libtorch is already running work in this process with {Describe(_active)}; work asking for {Describe(settings)} " +
                    "must wait until it ends (libtorch's thread count and denormal mode are partly process-wide)");
            if (_running++ > 0) return;
            _active = settings;
            _restoreThreads = ProcessWideThreads();
        }
    }

    /// <summary>libtorch's process-wide thread count: what a thread that has not used libtorch yet starts from.</summary>
    static int ProcessWideThreads()
    {
        int count = 0;
        var probe = new Thread(() => count = torch.get_num_threads());
        probe.Start();
        probe.Join();
        return count;
    }

    /// <summary>On the run's own thread, as it ends: the last run puts libtorch's process-wide thread count back.</summary>
    static void Leave(TorchThreadSettings settings)
    {
        lock (Gate)
        {
            if (--_running > 0) return;
            _active = null;
            if (settings.Threads is not null) torch.set_num_threads(_restoreThreads);
        }
    }

    static string Describe(TorchThreadSettings s) =>
        $"{(s.Threads is int n ? $"{n} libtorch thread(s)" : "libtorch's default threads")}, denormals {(s.FlushDenormals ? "flushed" : "kept")}";
}
