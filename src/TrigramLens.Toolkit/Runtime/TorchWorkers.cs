using System.Runtime.ExceptionServices;
using TorchSharp;

namespace TrigramLens.Runtime;

/// <summary>
/// A fixed set of single-threaded libtorch workers for fanning out independent pieces of work, again and again: the
/// calling thread is worker 0, the others are threads kept waiting between calls. On small tensors this scales where
/// libtorch's intra-op threads do not (their fork/join per kernel dominates). Every piece runs with one libtorch
/// thread, so a piece computes the same bits on any worker. Workers are started from the constructing thread and so
/// inherit its floating-point mode (POSIX: new threads inherit the floating-point environment).
/// </summary>
internal sealed class TorchWorkers : IDisposable
{
    readonly Worker[] _others;   // workers 1..n-1

    public TorchWorkers(int count)
    {
        if (count < 1) throw new ArgumentException($"workers must be positive (got {count})");
        TorchRuntime.EnsureLoaded();
        _others = Enumerable.Range(1, count - 1).Select(i => new Worker(i)).ToArray();
    }

    public int Count => _others.Length + 1;

    /// <summary>
    /// Runs <paramref name="body"/>(i) for every i in [0, <paramref name="pieces"/>), piece i on worker
    /// <c>i mod Count</c>; results come back in index order, so whatever the caller does with them in that order is
    /// independent of timing. The first failure is rethrown once every worker has stopped.
    /// </summary>
    public T[] Map<T>(int pieces, Func<int, T> body)
    {
        var results = new T[pieces];
        int workers = Math.Min(Count, pieces);
        Action Part(int worker) => () =>
        {
            for (int i = worker; i < pieces; i += workers) results[i] = body(i);
        };
        // libtorch's thread count is partly process-wide (get_num_threads, which some kernels split work by): it is one
        // from before the first piece starts until the last one ends, and the caller's again afterwards. Also with a
        // single worker, so that a piece's bits never depend on the caller's thread count.
        int callerThreads = torch.get_num_threads();
        if (callerThreads != 1) torch.set_num_threads(1);
        for (int w = 1; w < workers; w++) _others[w - 1].Post(Part(w));

        ExceptionDispatchInfo? first = null;
        try
        {
            Part(0)();
        }
        catch (Exception e)
        {
            first = ExceptionDispatchInfo.Capture(e);
        }
        for (int w = 1; w < workers; w++)
        {
            var failure = _others[w - 1].Wait();
            first ??= failure;
        }
        if (callerThreads != 1) torch.set_num_threads(callerThreads);
        first?.Throw();
        return results;
    }

    /// <summary>A one-off fan-out over <paramref name="workers"/> fresh workers (at most one per piece).</summary>
    public static T[] Map<T>(int pieces, int workers, Func<int, T> body)
    {
        if (workers < 1) throw new ArgumentException($"workers must be positive (got {workers})");
        using var pool = new TorchWorkers(Math.Max(1, Math.Min(workers, pieces)));
        return pool.Map(pieces, body);
    }

    public void Dispose()
    {
        foreach (var worker in _others) worker.Dispose();
    }

    sealed class Worker : IDisposable
    {
        readonly SemaphoreSlim _start = new(0);
        readonly SemaphoreSlim _done = new(0);
        readonly Thread _thread;
        Action? _job;
        ExceptionDispatchInfo? _failure;
        volatile bool _stopping;

        public Worker(int index)
        {
            _thread = new Thread(Loop, 16 * 1024 * 1024) { IsBackground = true, Name = $"trigramlens-worker-{index}" };
            _thread.Start();
        }

        void Loop()
        {
            while (true)
            {
                _start.Wait();
                if (_stopping) return;
                try
                {
                    torch.set_num_threads(1);   // this thread's OpenMP and MKL threads; the process-wide count is the caller's job
                    _job!();
                }
                catch (Exception e)
                {
                    _failure = ExceptionDispatchInfo.Capture(e);
                }
                _done.Release();
            }
        }

        public void Post(Action job)
        {
            _job = job;
            _failure = null;
            _start.Release();
        }

        /// <summary>Waits for the posted job; returns its failure, if any.</summary>
        public ExceptionDispatchInfo? Wait()
        {
            _done.Wait();
            _job = null;
            return _failure;
        }

        public void Dispose()
        {
            _stopping = true;
            _start.Release();
            _thread.Join();
            _start.Dispose();
            _done.Dispose();
        }
    }
}
