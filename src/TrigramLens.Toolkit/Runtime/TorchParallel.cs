using System.Runtime.ExceptionServices;
using TorchSharp;

namespace TrigramLens.Runtime;

/// <summary>
/// Independent pieces of libtorch work spread over single-threaded workers, the calling thread being one of them.
/// On small tensors this scales where libtorch's intra-op threads do not (see <c>ShardedBackward</c>). Every piece
/// runs with one libtorch thread, so a piece computes the same bits on any worker and for any worker count. Workers
/// are started from the calling thread, so they inherit its floating-point mode (denormal flushing).
/// </summary>
public static class TorchParallel
{
    /// <summary>
    /// Runs <paramref name="body"/>(i) for every i in [0, <paramref name="count"/>), piece i on worker
    /// <c>i mod workers</c>; results come back in index order, so whatever the caller does with them in that order is
    /// independent of timing.
    /// </summary>
    public static T[] Map<T>(int count, int workers, Func<int, T> body)
    {
        if (workers < 1) throw new ArgumentException($"workers must be positive (got {workers})");
        var results = new T[count];
        workers = Math.Min(workers, count);
        if (workers <= 1)
        {
            for (int i = 0; i < count; i++) results[i] = body(i);   // on the caller's own libtorch threads
            return results;
        }

        var failures = new ExceptionDispatchInfo?[workers];
        void Work(int worker)
        {
            try
            {
                for (int i = worker; i < count; i += workers) results[i] = body(i);
            }
            catch (Exception e)
            {
                failures[worker] = ExceptionDispatchInfo.Capture(e);
            }
        }

        var threads = Enumerable.Range(1, workers - 1).Select(w => new Thread(() =>
        {
            torch.set_num_threads(1);
            Work(w);
        }, maxStackSize: 16 * 1024 * 1024) { Name = $"trigramlens-parallel-{w}", IsBackground = true }).ToList();
        foreach (var thread in threads) thread.Start();
        int callerThreads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            Work(0);
        }
        finally
        {
            torch.set_num_threads(callerThreads);
            foreach (var thread in threads) thread.Join();
        }
        foreach (var failure in failures) failure?.Throw();
        return results;
    }
}
