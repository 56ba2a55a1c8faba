using TrigramLens.Checkpoints;
using TrigramLens.Trigrams.Training;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Evaluation;

public class TrigramModelMetricsTests
{
    [ArenaCheckpointFact]
    public void ARENAs_checkpoint_completes_266_of_277_trigrams_as_published()
    {
        using var model = ModelCheckpoint.Load(ReferenceData.RequireArenaCheckpoint(), TrigramModelConfig.CheckpointOptions);
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 2500);
        var metrics = TrigramModelMetrics.Evaluate(model, dataset);

        // Will Snell's "Trigrams" post: "Model accuracy: 0.9602888086642599" (266 / 277).
        Assert.Equal(266, metrics.Accuracy.Correct);
        Assert.Equal(277, metrics.Accuracy.Total);
        Assert.Equal(11, metrics.Accuracy.Misses.Count);
        Assert.Contains(metrics.Accuracy.Misses, m => (m.A, m.B, m.C, m.Predicted) == (39, 12, 73, 34));   // the post's "always predicts 34"
        // ARENA's notebook on the 2500-sequence seed-40 batch: "Average cross entropy loss: 4.157".
        Assert.Equal(4.157, metrics.Loss!.Value, 3);
    }

    [Fact]
    public void Accuracy_equals_a_loop_over_single_trigram_runs()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 3));
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 0);
        var batched = TrigramModelMetrics.OnTrigrams(model, dataset.Trigrams);

        using var _ = no_grad();
        int correct = 0;
        double probability = 0;
        foreach (var t in dataset.Trigrams.Trigrams)
        {
            var logits = model.call(tensor(new long[] { t.A, t.B }))[0, 1];
            if (logits.argmax().item<long>() == t.C) correct++;
            probability += logits.softmax(0)[t.C].item<float>();
        }
        Assert.Equal(correct, batched.Accuracy.Correct);
        Assert.Equal(probability / 277, batched.MeanCorrectProbability, 5);
    }

    [Theory]
    [InlineData(4.15741, 0.25847)]   // ARENA's W&B log for the released model
    [InlineData(4.17597, 0.34443)]   // an attention-only retrain, same log
    public void Loss_fraction_matches_ARENAs_logged_values(double loss, double fraction) =>
        Assert.Equal(fraction, TrigramModelMetrics.LossFraction(loss, 75, 0.05), 4);

    [Fact]
    public void Loss_fraction_is_one_at_uniform_and_zero_at_optimum()
    {
        Assert.Equal(1, TrigramModelMetrics.LossFraction(Math.Log(75), 75, 0.05), 12);
        Assert.Equal(0, TrigramModelMetrics.LossFraction(Math.Log(75) * 0.95, 75, 0.05), 12);
    }

    [Fact]
    public void Batched_dataset_loss_equals_the_whole_batch_loss()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 3));
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 50);
        using var _ = no_grad();
        double whole = TrigramLens.Training.NextTokenLoss.Compute(model.call(dataset.Tokens), dataset.Tokens).item<float>();
        Assert.Equal(whole, TrigramModelMetrics.DatasetLoss(model, dataset.Tokens, batchSize: 7), 5);
    }

    [Fact]
    public void Dataset_loss_on_several_threads_is_the_same_number()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 4));
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 50);
        double one = TrigramModelMetrics.DatasetLoss(model, dataset.Tokens, batchSize: 6);
        Assert.Equal(one, TrigramModelMetrics.DatasetLoss(model, dataset.Tokens, batchSize: 6, threads: 2));
        Assert.Equal(one, TrigramModelMetrics.DatasetLoss(model, dataset.Tokens, batchSize: 6, threads: 3));
    }
}
