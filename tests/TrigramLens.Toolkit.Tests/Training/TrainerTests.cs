using TrigramLens.Model;
using TrigramLens.Tests.Runtime;
using TrigramLens.Testing;
using TrigramLens.Training;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Training;

// Sharded steps hold libtorch's process-wide thread count at one (TorchWorkers), which tests running alongside would change.
[Collection(nameof(LibtorchThreadCount))]
public sealed class TrainerTests() : TempDirectoryTests("trigramlens-trainer-")
{
    static HookedTransformerConfig Small(int seed = 3) => TinyModels.Deep(norm: NormalizationType.None, act: ActivationFunction.Relu, seed: seed);

    static Tensor Tokens(HookedTransformerConfig cfg, int rows, int seed = 11)
    {
        using var g = new Generator((ulong)seed);
        return randint(0, cfg.d_vocab, [rows, cfg.n_ctx], generator: g);
    }

    static TrainerOptions Options(int epochs = 2, int batch = 16, bool shuffle = true) => new()
    {
        Epochs = epochs,
        BatchSize = batch,
        Schedule = new WarmupCosineSchedule(5e-3, 3, 0.1),
        WeightDecay = 1e-3,
        Shuffle = shuffle,
        ShuffleSeed = 5,
    };

    static void AssertSameWeights(HookedTransformer a, HookedTransformer b)
    {
        var other = b.state_dict();
        foreach (var (name, t) in a.state_dict()) Assert.True(t.Equals(other[name]), $"{name} differs");
    }

    [Fact]
    public void Same_options_give_bit_identical_weights_and_different_seeds_do_not()
    {
        var cfg = Small();
        var tokens = Tokens(cfg, 64);
        using var a = new HookedTransformer(cfg);
        using var b = new HookedTransformer(cfg);
        using var c = new HookedTransformer(cfg);
        using (var ta = new Trainer(a, tokens, Options())) while (!ta.IsFinished) ta.RunEpoch();
        using (var tb = new Trainer(b, tokens, Options())) while (!tb.IsFinished) tb.RunEpoch();
        using (var tc = new Trainer(c, tokens, Options() with { ShuffleSeed = 6 })) while (!tc.IsFinished) tc.RunEpoch();
        AssertSameWeights(a, b);
        Assert.False(a.W_E.Equals(c.W_E));
    }

    [Fact]
    public void Sharded_weights_depend_on_the_shard_count_not_the_threads_and_match_the_unsharded_step()
    {
        var cfg = Small();
        var tokens = Tokens(cfg, 64);
        // One shard; then 3 shards on 3, 1 and 2 threads, called from a thread with 2 libtorch threads.
        (int shards, int threads)[] runs = [(1, 1), (3, 3), (3, 1), (3, 2)];
        var models = runs.Select(_ => new HookedTransformer(cfg)).ToArray();
        var losses = new List<double>[runs.Length];
        int callerThreads = get_num_threads();
        set_num_threads(2);
        try
        {
            for (int i = 0; i < runs.Length; i++)
            {
                using var trainer = new Trainer(models[i], tokens, Options() with { Shards = runs[i].shards }, runs[i].threads);
                losses[i] = [];
                while (!trainer.IsFinished) losses[i].Add(trainer.RunEpoch()!.TrainLoss);
            }
            var (single, sharded) = (models[0], models[1]);
            for (int i = 2; i < runs.Length; i++)
            {
                AssertSameWeights(sharded, models[i]);
                Assert.Equal(losses[1], losses[i]);
            }
            // Across shard counts only rounding differs. b_K's true gradient is zero (softmax ignores a constant added
            // to every score of a row), so Adam turns its rounding noise into full-size steps: it is the one weight to skip.
            foreach (var (name, p) in single.named_parameters().Where(p => !p.name.EndsWith("b_K", StringComparison.Ordinal)))
                Assert.True(p.allclose(sharded.state_dict()[name], rtol: 1e-3, atol: 1e-4), name);
            Assert.Equal(losses[0][^1], losses[1][^1], 4);
        }
        finally
        {
            set_num_threads(callerThreads);
            foreach (var m in models) m.Dispose();
        }
    }

    [Theory]
    [InlineData(1, 0)]    // stopped at an epoch boundary
    [InlineData(1, 2)]    // stopped mid-epoch
    [InlineData(2, 1)]
    public void Stopping_saving_and_resuming_ends_bit_identical_to_an_uninterrupted_run(int shards, int stopAfterSteps)
    {
        var cfg = Small();
        var tokens = Tokens(cfg, 64);
        var options = Options(epochs: 3) with { Shards = shards };

        using var uninterrupted = new HookedTransformer(cfg);
        var expected = new List<EpochSummary>();
        using (var trainer = new Trainer(uninterrupted, tokens, options, threads: shards))
            while (!trainer.IsFinished) expected.Add(trainer.RunEpoch()!);

        string path = Path.Combine(Dir, "run.resume.safetensors");
        using var first = new HookedTransformer(cfg);
        var summaries = new List<EpochSummary>();
        using (var trainer = new Trainer(first, tokens, options, threads: shards))
        {
            summaries.Add(trainer.RunEpoch()!);
            using var stop = new CancellationTokenSource();
            int steps = 0;
            var partial = trainer.RunEpoch(_ => { if (++steps == stopAfterSteps) stop.Cancel(); }, stopAfterSteps == 0 ? new CancellationToken(true) : stop.Token);
            Assert.Null(partial);
            Assert.Equal(new TrainingPosition(1, stopAfterSteps, trainer.StepsPerEpoch + stopAfterSteps), trainer.Position);
            TrainingCheckpoint.Save(path, trainer, new Dictionary<string, string> { ["caller"] = "kept" });
        }

        using var checkpoint = TrainingCheckpoint.Load(path);
        Assert.Equal("kept", checkpoint.Metadata["caller"]);
        Assert.Equal(options, checkpoint.Options);
        using var resumedModel = checkpoint.Model;
        using (var trainer = new Trainer(resumedModel, tokens, checkpoint.Options, threads: shards))
        {
            trainer.Restore(checkpoint.State);
            while (!trainer.IsFinished) summaries.Add(trainer.RunEpoch()!);
        }
        AssertSameWeights(uninterrupted, resumedModel);
        Assert.Equal(expected.Select(s => s.TrainLoss), summaries.Select(s => s.TrainLoss));
    }

    [Fact]
    public void A_checkpoint_reloads_weights_moments_and_position_as_saved()
    {
        var cfg = Small();
        var tokens = Tokens(cfg, 64);
        using var model = new HookedTransformer(cfg);
        using var trainer = new Trainer(model, tokens, Options());
        trainer.RunEpoch();
        string path = Path.Combine(Dir, "c.safetensors");
        TrainingCheckpoint.Save(path, trainer);

        using var saved = trainer.CaptureState();
        using var loaded = TrainingCheckpoint.Load(path);
        using var reloaded = loaded.Model;
        AssertSameWeights(model, reloaded);
        Assert.Equal(saved.Position, loaded.State.Position);
        Assert.Equal(saved.EpochStartGeneratorState, loaded.State.EpochStartGeneratorState);
        foreach (var (name, m) in saved.Optimizer)
        {
            Assert.Equal(m.Step, loaded.State.Optimizer[name].Step);
            Assert.True(m.ExpAvg.Equals(loaded.State.Optimizer[name].ExpAvg), name);
            Assert.True(m.ExpAvgSq.Equals(loaded.State.Optimizer[name].ExpAvgSq), name);
            Assert.True(m.ExpAvgSq.abs().sum().item<float>() > 0, $"{name}: moments were never updated");
        }
    }

    // A second guard of the saved generator state: wherever a run stops within an epoch, it saves the state from before
    // that epoch's permutation was drawn, so drawing again from it gives the order this epoch used.
    [Fact]
    public void The_saved_generator_state_is_the_one_the_current_epochs_order_was_drawn_from()
    {
        var cfg = Small();
        var tokens = Tokens(cfg, 64);
        using var model = new HookedTransformer(cfg);
        using var trainer = new Trainer(model, tokens, Options(epochs: 3));
        trainer.RunEpoch();
        using var atStart = trainer.CaptureState();                          // epoch 1, before its permutation is drawn
        var firstBatches = new List<double>();
        using var stop = new CancellationTokenSource();
        trainer.RunEpoch(s => { firstBatches.Add(s.Loss); if (firstBatches.Count == 2) stop.Cancel(); }, stop.Token);
        using var midEpoch = trainer.CaptureState();                         // epoch 1, after two of its steps
        Assert.Equal(atStart.EpochStartGeneratorState, midEpoch.EpochStartGeneratorState);

        using var replay = new Generator(0);
        using (var state = tensor(midEpoch.EpochStartGeneratorState, ScalarType.Byte)) replay.set_state(state);
        using var expectedOrder = randperm(64, generator: replay);
        using var shuffle = new Generator(Options().ShuffleSeed);
        randperm(64, generator: shuffle).Dispose();                         // epoch 0's order
        using var epochOneOrder = randperm(64, generator: shuffle);
        Assert.True(expectedOrder.Equals(epochOneOrder));
    }
}
