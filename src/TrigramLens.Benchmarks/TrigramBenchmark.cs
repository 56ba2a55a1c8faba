using TrigramLens.Model;
using TrigramLens.Runtime;
using TrigramLens.Training;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Benchmarks;

/// <summary>What the trigram benchmark runs on.</summary>
/// <param name="BatchSize">null: the <c>fast</c> recipe's</param>
/// <param name="Threads">the library step's shards, one thread each (unlike training, where the recipe fixes the shards);
/// null: one per core. The reference step uses as many libtorch threads.</param>
/// <param name="Sequences">rows of seeded trigram data the steps cycle through</param>
public sealed record TrigramBenchmarkOptions(
    int? BatchSize = null,
    int Rounds = 5,
    int StepsPerRound = 40,
    long LongRunSteps = 10_000,
    int Seed = 40,
    int Sequences = 20_480,
    int? Threads = null,
    bool FlushDenormals = true);

/// <summary><see cref="TrainingBenchmark"/> on the challenge's model and data, on a dedicated libtorch thread.</summary>
public static class TrigramBenchmark
{
    public static TrainingBenchmarkReport Run(TrigramBenchmarkOptions options, IProgress<string>? progress = null) =>
        TorchThread.Run(TrainingThreads.Settings(options.FlushDenormals), () =>
        {
            var data = TrigramDataConfig.For(options.Seed);
            using var dataset = TrigramDataset.Generate(data, options.Sequences);
            using var model = new HookedTransformer(TrigramModelConfig.For(data, options.Seed));
            int threads = TrainingThreads.Count(options.Threads);
            return TrainingBenchmark.Run(model, dataset.Tokens, options.BatchSize ?? TrigramRecipe.Fast.BatchSize, options.Rounds, options.StepsPerRound,
                options.LongRunSteps, shards: threads, referenceThreads: threads, progress);
        });
}
