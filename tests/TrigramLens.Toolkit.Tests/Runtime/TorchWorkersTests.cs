using TrigramLens.Runtime;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Runtime;

// libtorch's get_num_threads reports one process-wide number that any test calling set_num_threads changes, so the
// tests that read it run alone, after the parallel ones.
[CollectionDefinition(nameof(LibtorchThreadCount), DisableParallelization = true)]
public sealed class LibtorchThreadCount;

[Collection(nameof(LibtorchThreadCount))]
public class TorchWorkersTests
{
    static Tensor Twice(Tensor x) => Held.Add(x, x);

    [Fact]
    public void Results_come_back_in_index_order_from_every_worker()
    {
        int callerThreads = get_num_threads();
        var seen = TorchWorkers.Map(7, 3, i => (i, worker: Environment.CurrentManagedThreadId, value: Twice(Held.Range(i + 1)).sum().item<long>(),
            libtorchThreads: get_num_threads()));
        Assert.All(seen, s => Assert.Equal(1, s.libtorchThreads));
        Assert.Equal(callerThreads, get_num_threads());
        Assert.Equal(Enumerable.Range(0, 7), seen.Select(s => s.i));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i * (i + 1)), seen.Select(s => s.value));
        // Piece i runs on worker i mod 3, piece 0 on the calling thread.
        Assert.Equal(Environment.CurrentManagedThreadId, seen[0].worker);
        Assert.Equal(3, seen.Select(s => s.worker).Distinct().Count());
        Assert.All(seen, s => Assert.Equal(seen[s.i % 3].worker, s.worker));
    }

    [Fact]
    public void A_single_worker_also_runs_its_pieces_with_one_libtorch_thread()
    {
        int callerThreads = get_num_threads();
        set_num_threads(2);
        try
        {
            using var one = new TorchWorkers(1);
            var seen = one.Map(3, _ => (worker: Environment.CurrentManagedThreadId, libtorchThreads: get_num_threads()));
            Assert.All(seen, s => Assert.Equal((Environment.CurrentManagedThreadId, 1), s));
            Assert.Equal(2, get_num_threads());
        }
        finally
        {
            set_num_threads(callerThreads);
        }
    }

    [Fact]
    public void A_failing_piece_fails_the_call_after_every_worker_stopped()
    {
        int done = 0;
        var e = Assert.Throws<InvalidOperationException>(() => TorchWorkers.Map(6, 2, i =>
        {
            if (i == 3) throw new InvalidOperationException("piece 3");
            return Interlocked.Increment(ref done);
        }));
        Assert.Equal("piece 3", e.Message);
        Assert.Equal(4, done);   // worker 0 ran pieces 0, 2 and 4; worker 1 ran piece 1 and stopped at piece 3
    }

    [Fact]
    public void More_workers_than_pieces_and_no_pieces_are_fine()
    {
        Assert.Equal([0, 1], TorchWorkers.Map(2, 8, i => i));
        Assert.Empty(TorchWorkers.Map(0, 2, i => i));
        Assert.Throws<ArgumentException>(() => TorchWorkers.Map(1, 0, i => i));
    }
}
