using TrigramLens.Runtime;

namespace TrigramLens.Trigrams.Training;

/// <summary>
/// How training uses the cores: <c>n</c> threads means <c>n</c> data-parallel shards of one libtorch thread each
/// (<see cref="TrigramLens.Training.Trainer"/>), which is much faster on this small model than one step on <c>n</c>
/// libtorch threads. The default is one per core, at most <see cref="MaxDefault"/>. Bit-identical results need the same count.
/// </summary>
public static class TrainingThreads
{
    public const int MaxDefault = 8;

    /// <summary>The thread count, which is also the shard count.</summary>
    public static int Count(int? requested) => requested ?? Math.Clamp(Environment.ProcessorCount, 1, MaxDefault);

    /// <summary>The training thread's settings: one libtorch thread, as every shard has (one shard is one thread).</summary>
    public static TorchThreadSettings Settings(bool flushDenormals) => new(Threads: 1, flushDenormals);
}
