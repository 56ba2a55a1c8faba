using TorchSharp;
using TrigramLens.Trigrams.Data;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Training;

/// <summary>
/// ARENA's data for training: <c>BigramDataset(size)</c> from the seed, then <c>random_split(dataset, [train, rest])</c>.
/// <c>random_split</c> takes <c>randperm(size)</c> from the same (global) generator right after the dataset's draws; we
/// draw it from the generator the dataset was drawn from, so the split (and, without shuffling, the
/// training order) is ARENA's: train rows are <c>perm[..train]</c> in that order, validation rows <c>perm[train..]</c>.
/// Owns its tensors.
/// </summary>
public sealed class TrigramDataSplit : IDisposable
{
    TrigramDataSplit(TrigramSet trigrams, TrigramDataConfig config, Tensor train, Tensor validation)
    {
        Trigrams = trigrams;
        Config = config;
        Train = train;
        Validation = validation;
    }

    public TrigramSet Trigrams { get; }
    public TrigramDataConfig Config { get; }
    /// <summary>[train, seq_len] int64, contiguous</summary>
    public Tensor Train { get; }
    /// <summary>[size − train, seq_len] int64, contiguous</summary>
    public Tensor Validation { get; }

    public static TrigramDataSplit Create(TrigramDataConfig config, int size, int trainSize)
    {
        if (trainSize < 1 || trainSize >= size) throw new ArgumentException($"need 0 < train size ({trainSize}) < size ({size})");
        TrigramLens.Runtime.TorchRuntime.EnsureLoaded();
        // One generator through the dataset's draws and then the permutation, as ARENA's global generator.
        using var generator = new Generator((ulong)config.Seed);
        using var dataset = TrigramDataset.Generate(config, size, generator);
        using var scope = NewDisposeScope();
        var order = randperm(size, generator: generator);
        var train = dataset.Tokens.index_select(0, order.narrow(0, 0, trainSize)).DetachFromDisposeScope();
        var validation = dataset.Tokens.index_select(0, order.narrow(0, trainSize, size - trainSize)).DetachFromDisposeScope();
        return new TrigramDataSplit(dataset.Trigrams, config, train, validation);
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
    }
}
