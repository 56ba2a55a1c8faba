using TrigramLens.Benchmarks;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Training;
using static TorchSharp.torch;

namespace TrigramLens.Benchmarks.Tests;

/// <summary>The library against the benchmark's plain re-implementation, which shares no code with it.</summary>
public sealed class ReferenceTrainingStepTests
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Library_loss_and_gradients_equal_the_naive_reference_step(bool arenaConfig)
    {
        var cfg = arenaConfig ? TinyModels.Arena() : Small();
        using var model = new HookedTransformer(cfg);
        using var reference = new ReferenceTrainingStep(model);
        var tokens = Tokens(cfg, 6);

        var expected = reference.Loss(tokens);
        expected.backward();
        foreach (bool hooked in new[] { false, true })
        {
            model.zero_grad();
            // Hooked or not, the library runs one numeric path outside the trainer's step (the trainer's kernels are
            // checked against this path in FastPathTests).
            using var hook = hooked ? model.AddHook("blocks.0.attn.hook_pattern", (_, _) => null) : null;
            var loss = NextTokenLoss.Compute(model, tokens);
            loss.backward();
            Assert.Equal(expected.item<float>(), loss.item<float>(), 5);
            foreach (var (name, p) in model.named_parameters())
                Assert.True(p.grad!.allclose(reference.Parameters[name].grad!, rtol: 1e-4, atol: 1e-6), $"gradient of {name} (hooked: {hooked})");
        }
    }

    [Fact]
    public void Without_shuffling_batches_are_the_rows_in_stored_order()
    {
        var cfg = Small();
        var tokens = Tokens(cfg, 40);
        using var model = new HookedTransformer(cfg);
        using var reference = new ReferenceTrainingStep(model, weightDecay: 1e-3);
        var options = Options(epochs: 1, batch: 16, shuffle: false);
        using var trainer = new Trainer(model, tokens, options);
        var losses = new List<double>();
        trainer.RunEpoch(s => losses.Add(s.Loss));
        // 40 rows in batches of 16: 16, 16, 8 (the last one partial, as PyTorch's DataLoader without drop_last).
        Assert.Equal(3, losses.Count);
        for (int i = 0; i < 3; i++)
        {
            double lr = options.Schedule.At(0, i, trainer.TotalSteps);
            double expected = reference.Step(tokens.narrow(0, 16 * i, Math.Min(16, 40 - 16 * i)), lr);
            Assert.Equal(expected, losses[i], 4);
        }
    }
}
