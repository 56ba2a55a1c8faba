using TorchSharp;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>
/// A bounded, shuffled store of (input, target) activation pairs fed by a stream (SAELens's activation store, without
/// its disk cache): filled once, shuffled, and served in batches from its first half; when that half is used up it is
/// replaced by fresh pairs and the whole buffer shuffled again. Holds at most <see cref="Capacity"/> pairs.
/// </summary>
internal sealed class ActivationBuffer : IDisposable
{
    readonly Func<(Tensor x, Tensor y)> _produce;   // fresh pairs: [n, d_in], [n, d_out]
    readonly Generator _shuffle;
    Tensor _x, _y;
    long _served;
    (Tensor x, Tensor y)? _spare;                   // produced but not yet stored

    public ActivationBuffer(int capacity, Func<(Tensor x, Tensor y)> produce, Generator shuffle)
    {
        Capacity = capacity;
        _produce = produce;
        _shuffle = shuffle;
        (_x, _y) = Take(capacity);
        Shuffle();
    }

    public int Capacity { get; }

    /// <summary>Pairs the producer has delivered so far.</summary>
    public long Produced { get; private set; }

    /// <summary>The buffer as it is now (for initial statistics).</summary>
    public (Tensor x, Tensor y) Contents => (_x, _y);

    /// <summary>The next <paramref name="size"/> pairs (views into the buffer, valid until the next call).</summary>
    public (Tensor x, Tensor y) Next(int size)
    {
        long half = Capacity / 2;
        if (_served + size > half)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Take((int)half);
            _x.narrow(0, 0, half).copy_(x);
            _y.narrow(0, 0, half).copy_(y);
            Shuffle();
            _served = 0;
        }
        var batch = (_x.narrow(0, _served, size), _y.narrow(0, _served, size));
        _served += size;
        return batch;
    }

    /// <summary>Exactly <paramref name="count"/> fresh pairs; what the producer delivers beyond that waits for the next call.</summary>
    (Tensor x, Tensor y) Take(int count)
    {
        using var scope = NewDisposeScope();
        var xs = new List<Tensor>();
        var ys = new List<Tensor>();
        var leftovers = new List<Tensor>();   // an earlier call's spare pairs, outside any scope
        long have = 0;
        while (have < count)
        {
            Tensor x, y;
            if (_spare is var (sx, sy))
            {
                (x, y) = (sx, sy);
                leftovers.Add(sx);
                leftovers.Add(sy);
                _spare = null;
            }
            else (x, y) = Produce();
            long use = Math.Min(x.shape[0], count - have);
            xs.Add(x.narrow(0, 0, use));
            ys.Add(y.narrow(0, 0, use));
            if (use < x.shape[0])
                _spare = (x.narrow(0, use, x.shape[0] - use).clone().DetachFromDisposeScope(), y.narrow(0, use, y.shape[0] - use).clone().DetachFromDisposeScope());
            have += use;
        }
        var result = (cat(xs, 0).DetachFromDisposeScope(), cat(ys, 0).DetachFromDisposeScope());
        foreach (var t in leftovers) t.Dispose();
        return result;
    }

    (Tensor x, Tensor y) Produce()
    {
        var (x, y) = _produce();
        if (x.dim() != 2 || y.dim() != 2 || x.shape[0] != y.shape[0] || x.shape[0] == 0)
            throw new InvalidOperationException($"the activation source gave [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}]; it must give [n, d_in] and [n, d_out] with n > 0");
        Produced += x.shape[0];
        return (x, y);
    }

    void Shuffle()
    {
        using var scope = NewDisposeScope();
        var order = randperm(Capacity, generator: _shuffle);
        var x = _x.index_select(0, order).DetachFromDisposeScope();
        var y = _y.index_select(0, order).DetachFromDisposeScope();
        _x.Dispose();
        _y.Dispose();
        (_x, _y) = (x, y);
    }

    public void Dispose()
    {
        _x.Dispose();
        _y.Dispose();
        if (_spare is var (sx, sy))
        {
            sx.Dispose();
            sy.Dispose();
        }
    }
}
