using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Kernels;
using TrigramLens.Model;
using TrigramLens.Runtime;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Training;

/// <summary>
/// Data parallelism inside one process: a batch is cut into row shards, each shard's forward and backward runs on its
/// own thread with a single libtorch thread, and the gradients are summed in shard order. On small models this scales
/// far better than libtorch's intra-op threads, whose per-operation fork/join dominates tiny kernels. Each shard's loss
/// is its mean weighted by its share of the targets, so the sum is the whole batch's gradient. Every shard computes
/// with one libtorch thread and the sum runs in shard order, so the result depends on the shard count only, not on how
/// many workers share the shards or which finishes first. The shards run on <see cref="TorchWorkers"/> created by the
/// constructing thread, so they share its floating-point mode.
/// </summary>
internal sealed class ShardedBackward : IDisposable
{
    readonly HookedTransformer _model;
    readonly Parameter[] _parameters;
    readonly TorchWorkers _workers;   // shard i on worker i mod workers; worker 0 is the caller's thread

    public ShardedBackward(HookedTransformer model, Parameter[] parameters, int shards, int workers)
    {
        if (shards < 2) throw new ArgumentException("sharding needs at least 2 shards");
        if (workers < 1 || workers > shards) throw new ArgumentException($"workers must lie in [1, {shards}] (got {workers})");
        _model = model;
        _parameters = parameters;
        Shards = shards;
        _workers = new TorchWorkers(workers);
    }

    public int Shards { get; }

    /// <summary>The batch's mean next-token loss and its gradient, flat in parameter order
    /// (<see cref="FlatAdamW.Flatten"/>) [total numel]; the caller disposes the gradient.</summary>
    public (double loss, Tensor gradient) Backward(Tensor batch)
    {
        long rows = batch.shape[0];
        int shards = (int)Math.Min(Shards, rows);
        var results = _workers.Map(shards, i =>
        {
            long start = rows * i / shards, end = rows * (i + 1) / shards;
            return Gradients(batch, start, end - start, rows);
        });

        // Each shard's gradient was flattened on its worker; the sum runs here, in shard order, into shard 0's.
        var sum = results[0].gradient;
        for (int i = 1; i < results.Length; i++)
        {
            sum.add_(results[i].gradient, One);
            results[i].gradient.Dispose();
        }
        return (results.Sum(r => r.loss), sum);
    }

    /// <summary>This shard's share of the batch loss and its flat gradient, detached from any dispose scope.</summary>
    (Tensor gradient, double loss) Gradients(Tensor batch, long start, long length, long rows)
    {
        using var scope = NewDisposeScope();
        using var kernels = HandWrittenKernels.Use();
        var tokens = batch.narrow(0, start, length);
        var loss = NextTokenLoss.Compute(_model, tokens, weight: (double)length / rows);
        var grads = torch.autograd.grad([loss], _parameters.Cast<Tensor>().ToList(), allow_unused: true);
        var gradient = FlatAdamW.Flatten(grads.Select((g, i) => g is null || g.IsInvalid ? zeros_like(_parameters[i]) : g));
        return (gradient.DetachFromDisposeScope(), loss.item<float>());
    }

    public void Dispose() => _workers.Dispose();
}
