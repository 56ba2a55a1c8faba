using TorchSharp;
using TrigramLens.Model;
using TrigramLens.Runtime;
using TrigramLens.Testing;
using TrigramLens.Transcoders;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Transcoders;

public sealed class TranscoderTrainerTests
{
    const string In = "blocks.0.hook_resid_mid", Out = "blocks.0.hook_mlp_out";

    /// <summary>Random token batches of the tiny deep model's vocabulary and context.</summary>
    static Tensor Batches(Generator g) => randint(0, 11, [8, 9], generator: g);

    static TranscoderTrainingOptions Small(TranscoderActivation activation) => new()
    {
        Width = 24, Activation = activation, K = 3, L1 = 0.05, L0 = 0.01, Steps = 30, BatchSize = 96, BufferPositions = 360,
        ChunkSize = 40, LearningRate = 3e-3, DeadWindow = 200, ResampleEvery = activation == TranscoderActivation.TopK ? 0 : 10, Seed = 5,
    };

    static float[][] Train(HookedTransformer model, TranscoderTrainingOptions options, int threads)
    {
        using var trainer = new TranscoderTrainer(model, In, Out, Batches, options, threads);
        var result = trainer.Run();
        using var t = result.Transcoder;
        Assert.True(result.Completed);
        Assert.Equal(options.Steps, result.Steps);
        return t.NamedParameters().Select(p => p.Parameter.detach().data<float>().ToArray()).ToArray();
    }

    [Theory]
    [InlineData(TranscoderActivation.TopK)]
    [InlineData(TranscoderActivation.Relu)]
    [InlineData(TranscoderActivation.JumpRelu)]
    public void Same_seed_gives_the_same_bits_on_one_or_two_threads_and_another_seed_does_not(TranscoderActivation activation)
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None, act: ActivationFunction.Relu));
        var options = Small(activation);
        var (a, b, c, d) = TorchThread.Run(new TorchThreadSettings(Threads: 1), () =>
            (Train(model, options, 2), Train(model, options, 1), Train(model, options, 2), Train(model, options with { Seed = 6 }, 2)));
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i], b[i]);
            Assert.Equal(a[i], c[i]);
        }
        Assert.NotEqual(a[0], d[0]);
    }

    [Fact]
    public void Training_lowers_the_reconstruction_error_and_the_log_covers_the_run()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None, act: ActivationFunction.Relu));
        var options = Small(TranscoderActivation.TopK) with { Steps = 200, LogPoints = 10, LearningRate = 1e-2 };
        var result = TorchThread.Run(new TorchThreadSettings(Threads: 1), () =>
        {
            using var trainer = new TranscoderTrainer(model, In, Out, Batches, options);
            return trainer.Run();
        });
        using var t = result.Transcoder;
        Assert.Equal(10, result.Log.Count);
        Assert.Equal(options.Steps, result.Log[^1].Step);
        Assert.True(result.Log[^1].Fvu < 0.5 * result.Log[0].Fvu, $"FVU {result.Log[0].Fvu} → {result.Log[^1].Fvu}");
        Assert.All(result.Log, e => Assert.InRange(e.L0, 1, 3));         // TopK: at most k (fewer where a selected pre-activation is negative)

        // The exported weights work on raw activations: the metric over fresh data matches the training curve's end.
        using var g = new Generator(99);
        var (_, cache) = model.RunWithCache(Batches(g), In, Out);
        using (cache)
        {
            var m = TranscoderMetrics.Measure(t, cache[In].reshape(-1, 12), cache[Out].reshape(-1, 12));
            Assert.True(m.Fvu < 0.5 * result.Log[0].Fvu, $"FVU on fresh data {m.Fvu}");
        }
    }

    [Fact]
    public void Learning_rate_warms_up_holds_and_decays_to_zero_and_sparsity_warms_up()
    {
        var o = new TranscoderTrainingOptions { Steps = 100, LearningRate = 0.5, WarmupFraction = 0.1, DecayFraction = 0.2, L1 = 2, L1WarmupFraction = 0.5,
            Activation = TranscoderActivation.Relu };
        Assert.Equal(0.05, TranscoderTrainer.LearningRate(o, 0), 12);
        Assert.Equal(0.5, TranscoderTrainer.LearningRate(o, 9), 12);
        Assert.Equal(0.5, TranscoderTrainer.LearningRate(o, 79), 12);
        Assert.Equal(0.5 * 20 / 20.0, TranscoderTrainer.LearningRate(o, 80), 12);
        Assert.Equal(0.5 * 1 / 20.0, TranscoderTrainer.LearningRate(o, 99), 12);
        Assert.Equal(2.0 / 50, TranscoderTrainer.SparsityCoefficient(o, 0), 12);
        Assert.Equal(2.0, TranscoderTrainer.SparsityCoefficient(o, 49), 12);
        Assert.Equal(2.0, TranscoderTrainer.SparsityCoefficient(o, 99), 12);
    }

    [Fact]
    public void Resampling_rewrites_only_dead_features_and_resets_only_their_moments()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None, act: ActivationFunction.Relu));
        var options = Small(TranscoderActivation.Relu) with { ResampleEvery = 0, DeadWindow = 1_000_000 };
        TorchThread.Run(new TorchThreadSettings(Threads: 1), () =>
        {
            using var trainer = new TranscoderTrainer(model, In, Out, Batches, options);
            for (int i = 0; i < 5; i++) trainer.TrainStep();
            using var _ = no_grad();
            // Mark features 2, 7 and 11 dead, then resample on a batch.
            trainer.MarkDeadForTest([2, 7, 11], options.DeadWindow);
            var before = trainer.SnapshotForTest();
            using var g = new Generator(3);
            var (__, cache) = model.RunWithCache(Batches(g), In, Out);
            using (cache) Assert.Equal(3, trainer.Resample(cache[In].reshape(-1, 12), cache[Out].reshape(-1, 12)));
            var after = trainer.SnapshotForTest();
            var dead = new HashSet<int> { 2, 7, 11 };
            for (int f = 0; f < options.Width; f++)
            {
                bool same = before.Encoder[f].SequenceEqual(after.Encoder[f]) && before.Decoder[f].SequenceEqual(after.Decoder[f])
                    && before.Bias[f] == after.Bias[f] && before.MomentsOf(f).SequenceEqual(after.MomentsOf(f));
                Assert.True(dead.Contains(f) != same, $"feature {f}: dead {dead.Contains(f)}, unchanged {same}");
                if (dead.Contains(f))
                {
                    Assert.Equal(0, after.Bias[f]);
                    Assert.All(after.MomentsOf(f), m => Assert.Equal(0, m));
                }
            }
            return 0;
        });
    }
}
