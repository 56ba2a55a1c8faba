using System.Runtime.ExceptionServices;
using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Training;

/// <summary>
/// Data parallelism inside one process: a batch is cut into row shards, each shard's forward and backward runs on its
/// own thread with a single libtorch thread, and the gradients are summed in shard order. On small models this scales
/// far better than libtorch's intra-op threads, whose per-operation fork/join dominates tiny kernels. Each shard's loss
/// is its mean weighted by its share of the targets, so the sum is the whole batch's gradient; the fixed summation
/// order keeps results bit-identical for a given shard count. Worker threads are started from the constructing
/// thread and so inherit its floating-point mode (POSIX: new threads inherit the floating-point environment).
/// </summary>
internal sealed class ShardedBackward : IDisposable
{
    readonly HookedTransformer _model;
    readonly Parameter[] _parameters;
    readonly Worker[] _workers;   // shards 1..n-1; shard 0 runs on the caller's thread

    public ShardedBackward(HookedTransformer model, Parameter[] parameters, int shards)
    {
        if (shards < 2) throw new ArgumentException("sharding needs at least 2 shards");
        _model = model;
        _parameters = parameters;
        _workers = Enumerable.Range(1, shards - 1).Select(i => new Worker(this, i)).ToArray();
    }

    public int Shards => _workers.Length + 1;

    /// <summary>Sets every parameter's <c>.grad</c> to the gradient of the batch's mean next-token loss; returns that loss.</summary>
    public double Backward(Tensor batch)
    {
        long rows = batch.shape[0], targetsPerRow = batch.shape[1] - 1;
        int shards = (int)Math.Min(Shards, rows);
        var slices = new (long start, long length)[shards];
        for (int i = 0; i < shards; i++)
        {
            long start = rows * i / shards, end = rows * (i + 1) / shards;
            slices[i] = (start, end - start);
        }
        for (int i = 1; i < shards; i++) _workers[i - 1].Post(batch, slices[i], rows);
        var first = Gradients(batch, slices[0], rows);
        var results = new List<(Tensor[] grads, double loss)> { first };
        for (int i = 1; i < shards; i++) results.Add(_workers[i - 1].Wait());

        using (no_grad())
        {
            for (int p = 0; p < _parameters.Length; p++)
            {
                var sum = results[0].grads[p];
                for (int i = 1; i < results.Count; i++) sum.add_(results[i].grads[p]);
                _parameters[p].grad = sum;
            }
        }
        // The parameters hold their own references to the summed gradients.
        foreach (var (grads, _) in results) foreach (var g in grads) g.Dispose();
        return results.Sum(r => r.loss);
    }

    /// <summary>Gradients of this shard's share of the batch loss, detached from any dispose scope.</summary>
    (Tensor[] grads, double loss) Gradients(Tensor batch, (long start, long length) slice, long rows)
    {
        using var scope = NewDisposeScope();
        var tokens = batch.narrow(0, slice.start, slice.length);
        var loss = NextTokenLoss.Compute(_model, tokens) * ((double)slice.length / rows);
        var grads = torch.autograd.grad([loss], _parameters.Cast<Tensor>().ToList(), allow_unused: true);
        var owned = grads.Select((g, i) => (g is null || g.IsInvalid ? zeros_like(_parameters[i]) : g).DetachFromDisposeScope()).ToArray();
        return (owned, loss.item<float>());
    }

    public void Dispose()
    {
        foreach (var worker in _workers) worker.Dispose();
    }

    sealed class Worker : IDisposable
    {
        readonly ShardedBackward _owner;
        readonly SemaphoreSlim _start = new(0);
        readonly SemaphoreSlim _done = new(0);
        readonly Thread _thread;
        (Tensor batch, (long, long) slice, long rows) _job;
        (Tensor[] grads, double loss) _result;
        ExceptionDispatchInfo? _failure;
        volatile bool _stopping;

        public Worker(ShardedBackward owner, int index)
        {
            _owner = owner;
            _thread = new Thread(Loop, 16 * 1024 * 1024) { IsBackground = true, Name = $"trigramlens-shard-{index}" };
            _thread.Start();
        }

        void Loop()
        {
            torch.set_num_threads(1);
            while (true)
            {
                _start.Wait();
                if (_stopping) return;
                try
                {
                    _result = _owner.Gradients(_job.batch, _job.slice, _job.rows);
                }
                catch (Exception e)
                {
                    _failure = ExceptionDispatchInfo.Capture(e);
                }
                _done.Release();
            }
        }

        public void Post(Tensor batch, (long, long) slice, long rows)
        {
            _job = (batch, slice, rows);
            _failure = null;
            _start.Release();
        }

        public (Tensor[] grads, double loss) Wait()
        {
            _done.Wait();
            _failure?.Throw();
            return _result;
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
