using System.Diagnostics;
using TrigramLens.Model;
using TrigramLens.Training;
using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Benchmarks;

/// <summary>
/// Measures the library's training step (<see cref="Trainer.Step"/>: hooked model on its fast path, AdamW) against
/// <see cref="ReferenceTrainingStep"/> in the same process on the same batches, in alternating rounds; then the
/// library step alone for a long run, reading the process's resident memory before and after (after a warm-up).
/// </summary>
public static class TrainingBenchmark
{
    public const int WarmupSteps = 50, MemoryWarmupSteps = 500;

    /// <param name="shards">the library trainer's shards (<see cref="TrainerOptions.Shards"/>), one thread each; with
    /// more than one, the calling thread must have one libtorch thread</param>
    /// <param name="referenceThreads">libtorch threads for the reference step (a naive loop uses one per core)</param>
    public static TrainingBenchmarkReport Run(HookedTransformer model, Tensor tokens, int batchSize, int rounds, int stepsPerRound,
        long longRunSteps, int shards, int referenceThreads, IProgress<string>? progress = null)
    {
        if (tokens.shape[0] < batchSize) throw new ArgumentException($"need at least {batchSize} sequences, got {tokens.shape[0]}");
        var options = new TrainerOptions { Epochs = 1, BatchSize = batchSize, Schedule = new LinearPerEpochSchedule(1e-3, 1e-3, 1), WeightDecay = 1e-3, Shards = shards };
        using var trainer = new Trainer(model, tokens, options, threads: shards);
        int libraryThreads = get_num_threads();
        using var reference = new ReferenceTrainingStep(model, weightDecay: 1e-3);
        long batches = tokens.shape[0] / batchSize;
        long next = 0;
        Tensor Batch() => tokens.narrow(0, next++ % batches * batchSize, batchSize);
        long targetsPerStep = batchSize * (tokens.shape[1] - 1);

        double Measure(Func<Tensor, double, double> step, long steps, int threads)
        {
            set_num_threads(threads);
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < steps; i++) step(Batch(), 1e-3);
            return steps * targetsPerStep / clock.Elapsed.TotalSeconds;
        }

        // Long enough for .NET to finish compiling the hot code optimised (after 5 steps, the first round ran at 60 %).
        progress?.Report("warming up");
        Measure(trainer.Step, WarmupSteps, libraryThreads);
        Measure(reference.Step, WarmupSteps, referenceThreads);

        var library = new List<double>();
        var naive = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            library.Add(Measure(trainer.Step, stepsPerRound, libraryThreads));
            naive.Add(Measure(reference.Step, stepsPerRound, referenceThreads));
            progress?.Report($"round {round + 1}/{rounds}: library {library[^1] / 1e6:F2} M tok/s, reference {naive[^1] / 1e6:F2} M tok/s");
        }

        progress?.Report($"long run: {longRunSteps:N0} library steps (after {MemoryWarmupSteps} to let the allocator settle)");
        // The first reading comes after the heap has served the library step's allocation pattern for a while: before
        // that, glibc is still growing it to its working size, which is not a leak.
        if (longRunSteps > 0) Measure(trainer.Step, MemoryWarmupSteps, libraryThreads);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = ProcessMemory.ResidentBytes();
        double longRun = longRunSteps > 0 ? Measure(trainer.Step, longRunSteps, libraryThreads) : double.NaN;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long after = ProcessMemory.ResidentBytes();

        return new TrainingBenchmarkReport(batchSize, shards, referenceThreads,
            new ThroughputSample("library", library), new ThroughputSample("reference", naive),
            library.Zip(naive, (l, n) => l / n).ToList(), longRunSteps, longRun, before, after,
            TorchRuntime.MatrixKernels);
    }
}
