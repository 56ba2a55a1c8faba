using TrigramLens.Checkpoints;
using TrigramLens.Training;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using TrigramLens.Trigrams.Training;
using static TorchSharp.torch;
using TrigramLens.Testing;

namespace TrigramLens.Trigrams.Tests.Training;

public sealed class TrigramTrainingTests() : TempDirectoryTests("trigramlens-training-")
{
    /// <summary>Small enough for seconds: 640 sequences, 3 epochs of 5 steps.</summary>
    static readonly TrigramRecipe Tiny = new()
    {
        Name = "tiny",
        DatasetSize = 700,
        TrainSize = 640,
        Epochs = 3,
        BatchSize = 128,
        Schedule = new WarmupCosineSchedule(1e-2, 3, 0.1),
        WeightDecay = 1e-3,
        Shuffle = true,
    };

    TrigramTrainingOptions Options(string name, int threads = 2) =>
        new() { Recipe = Tiny, OutputPath = Path.Combine(Dir, name, "model.safetensors"), Threads = threads };

    [Fact]
    public void The_arena_recipe_is_study_spec_section_3()
    {
        var arena = TrigramRecipe.Arena;
        Assert.Equal((105_000, 100_000, 5_000), (arena.DatasetSize, arena.TrainSize, arena.ValidationSize));
        Assert.Equal((512, 100, 1e-3, false), (arena.BatchSize, arena.Epochs, arena.WeightDecay, arena.Shuffle));
        for (int e = 0; e < 100; e++) Assert.Equal(1e-3 + (1e-4 - 1e-3) * (e + 1) / 100, arena.Schedule.At(e, 0, 1), 15);
        Assert.Equal(1e-3 + (1e-4 - 1e-3) * 1 / 10.0, arena.WithEpochs(10).Schedule.At(0, 0, 1), 15);
        Assert.Equal(arena, TrigramRecipe.FromJson(arena.ToJson()));
        Assert.Same(TrigramRecipe.Fast, TrigramRecipe.Named("FAST"));
        Assert.Throws<ArgumentException>(() => TrigramRecipe.Named("slow"));
    }

    [Fact]
    public void The_split_is_a_seeded_permutation_of_the_dataset()
    {
        var config = TrigramDataConfig.Arena;
        using var split = TrigramDataSplit.Create(config, 300, 250);
        using var again = TrigramDataSplit.Create(config, 300, 250);
        using var dataset = TrigramDataset.Generate(config, 300);
        Assert.True(split.Train.Equals(again.Train));
        Assert.Equal([250L, 50], new[] { split.Train.shape[0], split.Validation.shape[0] });
        // Same rows as the dataset, in another order: compare the rows sorted as numbers in base d_vocab.
        static Tensor Sorted(Tensor rows) => rows.to(ScalarType.Float64).matmul(tensor(Enumerable.Range(0, 50).Select(i => Math.Pow(75.0, (49 - i) / 8.0)).ToArray())).sort().Values;
        Assert.True(Sorted(cat([split.Train, split.Validation])).allclose(Sorted(dataset.Tokens)));
        Assert.False(split.Train.Equals(dataset.Tokens.narrow(0, 0, 250)));

        // ARENA's order of draws, replayed by hand on a fresh generator: trigram candidates, the token matrix, then
        // random_split's permutation. Train rows are the dataset's rows perm[..train], in that order.
        using var generator = new TorchSharp.torch.Generator(40);
        TrigramSet.Generate(generator, 75, config.ResolvedTrigramCount);
        randint(0, 75, [300, 50], generator: generator);
        var perm = randperm(300, generator: generator);
        Assert.True(split.Train.Equals(dataset.Tokens.index_select(0, perm[..250])));
        Assert.True(split.Validation.Equals(dataset.Tokens.index_select(0, perm[250..])));
    }

    [Fact]
    public void Training_writes_loadable_checkpoints_a_log_and_curves_and_reports_progress()
    {
        var reports = new List<TrainingProgress>();
        var result = TrigramTraining.Train(Options("a", threads: 3), new SyncProgress(reports.Add));   // more threads than shards
        using var model = result.Model;
        Assert.True(result.Completed);
        Assert.Equal(3, result.History.Count);
        var o = result.Outputs!;
        foreach (var file in new[] { o.Model, o.Resume, o.Metrics, o.Curves }) Assert.True(File.Exists(file), file);
        Assert.Equal(3, File.ReadAllLines(o.Metrics).Length);
        Assert.Equal(result.History, MetricsLog<TrigramEpochMetrics>.Open(o.Metrics, keep: 3).Entries);   // the log reads back as the run's history
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 1);

        // The saved model is the returned one: same weights, same metrics when evaluated afresh.
        using var loaded = ModelCheckpoint.Load(o.Model);
        foreach (var (name, t) in model.state_dict()) Assert.True(t.Equals(loaded.state_dict()[name]), name);
        var metrics = TrigramModelMetrics.OnTrigrams(loaded, dataset.Trigrams);
        Assert.Equal(result.Final!.TrigramCorrect, metrics.Accuracy.Correct);
        Assert.Equal(result.Final.MeanCorrectProbability, metrics.MeanCorrectProbability, 6);
        Assert.Equal("tiny", TrigramRecipe.FromJson(ModelCheckpoint.ReadMetadata(o.Model)[TrigramTraining.RecipeKey]).Name);

        Assert.Equal(TrainingPhase.Preparing, reports[0].Phase);
        Assert.Contains(reports, r => r.Phase == TrainingPhase.Preparing && r.Message == "tiny recipe: 3 × 5 steps of batch 128 (2 shard(s) on 2 thread(s))");
        Assert.Equal(15, reports.Count(r => r.Phase == TrainingPhase.Step));
        Assert.Equal([0, 1, 2], reports.Where(r => r.Phase == TrainingPhase.EpochEnd).Select(r => r.EpochMetrics!.Epoch));
        Assert.Equal(TrainingPhase.Finished, reports[^1].Phase);
        Assert.All(reports.Where(r => r.Phase == TrainingPhase.Step), r => Assert.True(r.LearningRate > 0 && r.Loss > 0));
    }

    [Theory]
    [InlineData(7)]   // mid-epoch
    [InlineData(5)]   // right at an epoch's end
    public void Cancelling_and_resuming_on_another_thread_count_gives_the_uninterrupted_run_bit_for_bit(int stopAfterSteps)
    {
        var full = TrigramTraining.Train(Options("full"));
        using var expected = full.Model;

        using var stop = new CancellationTokenSource();
        int steps = 0;
        var first = TrigramTraining.Train(Options("resumed"), new SyncProgress(p =>
        {
            if (p.Phase == TrainingPhase.Step && ++steps == stopAfterSteps) stop.Cancel();
        }), stop.Token);
        first.Model.Dispose();
        Assert.False(first.Completed);

        // The recipe's 2 shards now run one after the other on a single thread.
        var second = TrigramTraining.Train(Options("resumed", threads: 1) with { Resume = true });
        using var resumed = second.Model;
        Assert.True(second.Completed);
        foreach (var (name, t) in expected.state_dict()) Assert.True(t.Equals(resumed.state_dict()[name]), name);
        Assert.Equal(full.History.Select(m => (m.TrainLoss, m.ValidationLoss, m.TrigramCorrect)),
            second.History.Select(m => (m.TrainLoss, m.ValidationLoss, m.TrigramCorrect)));
        Assert.Equal(3, File.ReadAllLines(second.Outputs!.Metrics).Length);
    }

    [Fact]
    public void Resuming_with_another_recipe_is_refused()
    {
        TrigramTraining.Train(Options("r") with { Epochs = 1 }).Model.Dispose();
        var e = Assert.Throws<ArgumentException>(() => TrigramTraining.Train(Options("r") with { Epochs = 2, Resume = true }));
        Assert.Contains("different run", e.Message);
    }

    [Fact]
    public void A_checkpoint_of_an_earlier_recipe_definition_is_refused_or_else_trained_over()
    {
        TrigramTraining.Train(Options("v") with { Epochs = 1 }).Model.Dispose();
        var changed = Tiny with { Shards = 3 };
        var e = Assert.Throws<ArgumentException>(() => TrigramTraining.Train(Options("v") with { Recipe = changed, Epochs = 1, Resume = true }));
        Assert.Contains("earlier definition of the tiny recipe; drop --resume", e.Message);

        var reports = new List<TrainingProgress>();
        var again = TrigramTraining.Train(Options("v") with { Recipe = changed, Epochs = 1, Resume = true, RestartDifferentRun = true },
            new SyncProgress(reports.Add));
        using var model = again.Model;
        using var fresh = TrigramTraining.Train(Options("fresh") with { Recipe = changed, Epochs = 1 }).Model;
        Assert.Contains(reports, r => r.Message?.EndsWith("earlier definition of the tiny recipe: training again from scratch", StringComparison.Ordinal) == true);
        foreach (var (name, t) in fresh.state_dict()) Assert.True(t.Equals(model.state_dict()[name]), name);
        Assert.Single(File.ReadAllLines(again.Outputs!.Metrics));   // the old run's log was replaced, not continued
    }

    /// <summary>Reports synchronously on the reporting thread (Progress&lt;T&gt; would post them elsewhere).</summary>
    sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
