using TrigramLens.Runtime;

namespace TrigramLens.Trigrams.Training;

/// <summary>
/// How training uses the cores: threads run a recipe's data-parallel shards, one libtorch thread each
/// (<see cref="TrigramLens.Training.Trainer"/>), which is much faster on this small model than one step on several
/// libtorch threads; threads beyond the shard count only speed up the per-epoch evaluation. The weights depend on the
/// shards, not on the threads. The default is one per core, at most <see cref="MaxDefault"/>.
/// </summary>
public static class TrainingThreads
{
    public const int MaxDefault = 8;

    /// <summary>The requested thread count, or one per core (at most <see cref="MaxDefault"/>).</summary>
    public static int Count(int? requested) => requested ?? Math.Clamp(Environment.ProcessorCount, 1, MaxDefault);

    /// <summary>The training thread's settings: one libtorch thread, as every shard has (the training thread runs shards too).</summary>
    public static TorchThreadSettings Settings(bool flushDenormals) => new(Threads: 1, flushDenormals);
}
