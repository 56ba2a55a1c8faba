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

    public static int Count(int? requested) => requested ?? Math.Clamp(Environment.ProcessorCount, 1, MaxDefault);

    public static int Shards(int? requested) => Count(requested);

    /// <summary>The training thread's settings: one libtorch thread when sharding, else the requested count.</summary>
    public static TorchThreadSettings Settings(int? requested, bool flushDenormals) => new(Shards(requested) > 1 ? 1 : Count(requested), flushDenormals);
}
