using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using TrigramLens.Trigrams.Study;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Study;

/// <summary>The study's smaller derived numbers, each against a second computation.</summary>
public class StudyNumbersTests
{
    [Fact]
    public void A_prediction_is_the_last_positions_softmax_with_its_completion_and_top_five()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 4));
        using var data = TrigramDataset.Generate(TrigramDataConfig.For(40), 0);
        var trigram = data.Trigrams.Trigrams[0];
        int[] prefix = [3, trigram.A, trigram.B];
        var (result, probabilities) = NextTokenPrediction.After(model, prefix, data.Trigrams, "f.png");

        using var _ = no_grad();
        var expected = model.call(tensor(new long[] { 3, trigram.A, trigram.B }).view(1, 3)).softmax(-1)[0, 2].data<float>().ToArray();
        Assert.Equal(expected, probabilities);
        Assert.Equal(trigram.C, result.TrigramCompletion);
        Assert.Equal(expected[trigram.C], result.CompletionProbability!.Value, 6);
        var top = expected.Select((p, t) => (p, t)).OrderByDescending(x => x.p).Take(5).Select(x => x.t).ToList();
        Assert.Equal(top, result.Top.Select(t => t.Token));
        Assert.Equal(data.Trigrams.Trigrams.Any(t => t.B == trigram.B && t.C == top[0]), result.TopCompletesLastToken);
        var (a, b) = (from x in Enumerable.Range(0, 75) from y in Enumerable.Range(0, 75)
                      where data.Trigrams.Completion(x, y) is null select (x, y)).First();
        var plain = NextTokenPrediction.After(model, [a, b], data.Trigrams, "g.png").Result;
        Assert.Null(plain.TrigramCompletion);
        Assert.Null(plain.CompletionProbability);
    }

    [Fact]
    public void Angles_are_arccosines_clipped_to_one_and_only_cosines_above_0_9_count()
    {
        var r = PrincipalAngleResults.FromCosines([1.0000001f, 0.95f, 0.9f, 0.5f]);
        double[] expected = [0, Math.Acos(0.95f) * 180 / Math.PI, Math.Acos(0.9f) * 180 / Math.PI, 60];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], r.AnglesDegrees[i], 9);
        Assert.Equal(2, r.DimensionsAbove09);
    }

    [Fact]
    public void Variance_summary_is_min_max_and_their_ratio()
    {
        var r = ResidualVarianceResults.FromVariance([0.5f, 2f, 0.25f]);
        Assert.Equal((0.25, 2.0, 8.0), (r.Min, r.Max, r.MaxOverMin));
    }

    [Fact]
    public void Qk_results_carry_the_preference_counts_over_the_queries_considered()
    {
        var r = QkResults.From(new PositionalPreference(48, 1, 49, 14.6), 215.5, 32.5);
        Assert.Equal((48L, 49L, 1L, 49L), (r.PositionalPrefersCurrent.K, r.PositionalPrefersCurrent.N, r.PositionalPrefersPrevious.K, r.PositionalPrefersPrevious.N));
        Assert.Equal((14.6, 215.5, 32.5), (r.PositionalCurrentOverPrevious, r.PositionalScoreStd, r.TokenScoreStd));
    }

    // Two ways to the loss: from the cached logits of the whole set, and batch by batch through the model.
    [Fact]
    public void Headline_loss_from_cached_logits_equals_the_batched_dataset_loss()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 2));
        using var data = TrigramDataset.Generate(TrigramDataConfig.For(40), 120);
        using var _ = no_grad();
        var logits = model.call(data.Tokens);
        var headline = HeadlineMetrics.Of(model, data, logits);
        var evaluated = TrigramModelMetrics.Evaluate(model, data, batchSize: 50);
        Assert.Equal(evaluated.Loss!.Value, headline.Loss, 5);
        Assert.Equal(evaluated.LossAsFraction!.Value, headline.LossAsFraction, 4);
        Assert.Equal(evaluated.Accuracy.Correct, headline.TrigramAccuracy.Correct);
        Assert.Equal(evaluated.MeanCorrectProbability, headline.MeanCorrectProbability, 6);
    }
}
