namespace TrigramLens.Benchmarks;

/// <summary>What <see cref="TrainingBenchmark.Run"/> measured.</summary>
/// <param name="Shards">the library step's data-parallel shards (single-threaded each)</param>
/// <param name="ReferenceThreads">libtorch threads of the reference step</param>
/// <param name="RatioByRound">library ÷ reference throughput per round (each round runs both back to back, so load
/// from other processes hits both alike)</param>
/// <param name="RssBeforeBytes">resident set size before the long run (after warm-up)</param>
/// <param name="RssAfterBytes">after <paramref name="LongRunSteps"/> library steps</param>
/// <param name="LongRunTargetsPerSecond">library throughput over the long run</param>
/// <param name="MatrixKernels">which MKL kernels ran the matrix products (<see cref="Runtime.MklCpuDispatch.Status"/>)</param>
public sealed record TrainingBenchmarkReport(
    int BatchSize,
    int Shards,
    int ReferenceThreads,
    ThroughputSample Library,
    ThroughputSample Reference,
    IReadOnlyList<double> RatioByRound,
    long LongRunSteps,
    double LongRunTargetsPerSecond,
    long RssBeforeBytes,
    long RssAfterBytes,
    string MatrixKernels)
{
    public double MedianRatio => ThroughputSample.MedianOf(RatioByRound);
}
