using TrigramLens.Analysis;
using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using TrigramLens.Trigrams.Study;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Study;

/// <summary>Each study piece against the same quantity computed another way, through the model and its hooks.</summary>
public class StudyPiecesTests
{
    static TrigramDataset Data(int size = 0) => TrigramDataset.Generate(TrigramDataConfig.Arena, size);

    [Fact]
    public void Simplified_model_equals_the_full_model_forced_to_attend_to_the_first_token()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 4));
        using var data = Data();
        var prefixes = data.Trigrams.Prefixes();
        using var _ = no_grad();
        var simplified = SimplifiedModel.Logits(model, prefixes);

        HookFunction previousOnly = (pattern, _) =>
        {
            var forced = pattern.clone();
            forced[.., .., 1, 0] = tensor(1f);
            forced[.., .., 1, 1] = tensor(0f);
            return forced;
        };
        var forcedLogits = model.RunWithHooks(prefixes, ("blocks.0.attn.hook_pattern", previousOnly))[.., 1];
        Assert.True(simplified.allclose(forcedLogits, atol: 1e-4));
    }

    [Fact]
    public void Simplified_misses_carry_the_full_models_own_prediction_and_attention_split()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 4));
        using var data = Data();
        var result = SimplifiedModel.Evaluate(model, data.Trigrams);
        Assert.NotEmpty(result.Misses);
        using var _ = no_grad();
        foreach (var m in result.Misses.Take(10))
        {
            // One run per miss, independent of the batched evaluation.
            var (logits, cache) = model.RunWithCache(tensor(new long[] { m.A, m.B }).view(1, 2), "blocks.0.attn.hook_pattern");
            using (cache)
            {
                Assert.Equal(logits[0, 1].argmax().item<long>(), m.FullModelPredicted);
                Assert.Equal(cache["pattern", 0][0, 0, 1, 0].item<float>(), m.AttentionToPrevious, 5);
                Assert.Equal(cache["pattern", 0][0, 0, 1, 1].item<float>(), m.AttentionToCurrent, 5);
                Assert.Equal(SimplifiedModel.Logits(model, tensor(new long[] { m.A, m.B }).view(1, 2))[0].argmax().item<long>(), m.Predicted);
                Assert.NotEqual(m.C, m.Predicted);
            }
        }
    }

    // A second guard of the mean's positions: every row, every position but the last, summed by plain loops.
    [Fact]
    public void The_mean_mlp_output_averages_every_position_but_the_last_of_every_row()
    {
        using var g = new Generator(3);
        var mlpOut = randn([4, 6, 3], generator: g, dtype: ScalarType.Float64);
        var values = mlpOut.data<double>().ToArray();
        var expected = new double[3];
        for (int row = 0; row < 4; row++)
            for (int pos = 0; pos < 5; pos++)
                for (int d = 0; d < 3; d++) expected[d] += values[(row * 6 + pos) * 3 + d] / 20;
        var mean = AttentionPathAccuracy.MeanMlpOut(mlpOut).data<double>().ToArray();
        for (int d = 0; d < 3; d++) Assert.Equal(expected[d], mean[d], 12);
    }

    [Fact]
    public void Direct_logit_attribution_equals_ablating_the_mlp_through_hooks()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 5));
        using var data = Data(50);
        using var _ = no_grad();
        var (_, cache) = model.RunWithCache(data.Tokens, "blocks.0.hook_mlp_out");
        using (cache)
        {
            var mean = AttentionPathAccuracy.MeanMlpOut(cache["mlp_out", 0]);
            Assert.True(mean.allclose(cache["mlp_out", 0][.., ..49].reshape(-1, 32).mean([0]), atol: 1e-6));
            var result = AttentionPathAccuracy.Evaluate(model, data.Trigrams, mean);

            var prefixes = data.Trigrams.Prefixes();
            var zeroed = model.RunWithHooks(prefixes, ("blocks.0.hook_mlp_out", Ablation.Zero))[.., 1];
            var meaned = model.RunWithHooks(prefixes, ("blocks.0.hook_mlp_out", Ablation.Mean(mean)))[.., 1];
            Assert.Equal(TrigramAccuracy.FromLogits(data.Trigrams, zeroed), result.ResidMid, new AccuracyComparer());
            Assert.Equal(TrigramAccuracy.FromLogits(data.Trigrams, meaned), result.ResidMidPlusMeanMlp, new AccuracyComparer());
        }
    }

    [Fact]
    public void Linearised_mlp_statistics_equal_a_brute_force_over_autograd_jacobians()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 6));
        using var data = Data(6);
        // An even count of rows and of positions: with an odd one the lower and upper medians are the same value, and a
        // median taken one place too high (the mutation check's mutant 27) passed this test.
        var tokens = data.Tokens[.., ..8];
        using var _ = no_grad();
        var (_, cache) = model.RunWithCache(tokens, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out");
        using (cache)
        using (var result = LinearisedMlp.Evaluate(model, data.Trigrams, cache["resid_mid", 0], cache["mlp_out", 0]))
        {
            var j = MlpJacobian.ViaHooks(model, tokens, 0);                           // [6, 8, 32, 32]
            var x = cache["resid_mid", 0];
            var bias = cache["mlp_out", 0] - matmul(j, x.unsqueeze(-1)).squeeze(-1);
            var median = SortMedian(SortMedian(j, 0), 0);                             // [32, 32]
            var medianBias = SortMedian(SortMedian(bias, 0), 0);                      // [32]
            Assert.True(result.Mean.allclose(j.mean([0, 1]), atol: 1e-5));
            Assert.True(result.Median.allclose(median, atol: 1e-5));
            Assert.True(result.MedianBias.allclose(medianBias, atol: 1e-5));
            Assert.Equal(48, result.Positions);

            // The linearised model's misses: unembed(b + x + J x) at position 1 of each prefix, J x summed by plain loops
            // (not compared as a count alone: an untrained model gets almost none right either way).
            float[] m = median.data<float>().ToArray(), b = medianBias.data<float>().ToArray();
            var (_, prefixCache) = model.RunWithCache(data.Trigrams.Prefixes(), "blocks.0.hook_resid_mid");
            using (prefixCache)
            {
                float[] xs = prefixCache["resid_mid", 0][.., 1].contiguous().data<float>().ToArray();   // [n, 32]
                int n = data.Trigrams.Count, d = 32;
                var resid = new float[n * d];
                for (int i = 0; i < n; i++)
                    for (int r = 0; r < d; r++)
                    {
                        double sum = b[r] + xs[i * d + r];
                        for (int c = 0; c < d; c++) sum += m[r * d + c] * xs[i * d + c];
                        resid[i * d + r] = (float)sum;
                    }
                long[] predicted = model.unembed.call(tensor(resid).view(n, d)).argmax(-1).data<long>().ToArray();
                var misses = data.Trigrams.Trigrams.Select((t, i) => new TrigramMiss(t.A, t.B, t.C, (int)predicted[i])).Where(miss => miss.Predicted != miss.C);
                Assert.Equal(misses, result.Linearised.Misses);
            }
        }
    }

    /// <summary>Lower median by sorting, independent of <see cref="Median"/>.</summary>
    static Tensor SortMedian(Tensor t, long dim) => t.sort(dim, false, false).Values.select(dim, (t.shape[dim] - 1) / 2);

    [Fact]
    public void Token_pair_agreement_matches_a_brute_force_count()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 7));
        using var data = Data();
        using (no_grad()) model.blocks[0].attn.W_Q.copy_(Held.Mul(model.blocks[0].attn.W_Q, 30));   // sharpen the untrained, nearly uniform map so there are hot spots
        var result = TokenPairAgreement.Evaluate(model, data.Trigrams, threshold: 0.05);
        var map = QkScores.TokenPairMap(model, Held.Range(75), 0, 0);
        var prefixes = data.Trigrams.Trigrams.Select(t => (t.A, t.B)).ToHashSet();

        int hot = 0, hotTrue = 0;
        for (int b = 0; b < 75; b++)
            for (int a = 0; a < 75; a++)
                if (map[b, a].item<float>() >= 0.05) { hot++; if (prefixes.Contains((a, b))) hotTrue++; }
        int prefixesHot = data.Trigrams.Trigrams.Count(t => map[t.B, t.A].item<float>() >= 0.05);
        int inRowTop = data.Trigrams.Trigrams.Count(t =>
        {
            int rowSize = data.Trigrams.Trigrams.Count(u => u.B == t.B);
            int hotterKeys = Enumerable.Range(0, 75).Count(k => map[t.B, k].item<float>() > map[t.B, t.A].item<float>());
            return hotterKeys < rowSize;
        });
        Assert.True(hot > 0 && prefixesHot > 0, "the test needs hot spots to count");
        Assert.Equal(hot, result.HotSpots);
        Assert.Equal(hotTrue, result.HotSpotsThatArePrefixes);
        Assert.Equal(prefixesHot, result.PrefixesThatAreHot);
        Assert.Equal(277 - prefixesHot, result.Missed.Count);
        Assert.Equal((double)hotTrue / hot, result.Precision, 12);
        Assert.Equal(prefixesHot / 277.0, result.Recall, 12);
        Assert.Equal(inRowTop, result.PrefixesInRowTop);
        var rows = data.Trigrams.Trigrams.Select(t => t.B).Distinct().ToList();
        Assert.Equal(rows.Count(b => prefixes.Contains(((int)map[b].argmax().item<long>(), b))), result.RowsHottestKeyIsPrefix);
    }

    sealed class AccuracyComparer : IEqualityComparer<TrigramAccuracy>
    {
        public bool Equals(TrigramAccuracy? x, TrigramAccuracy? y) =>
            x!.Correct == y!.Correct && x.Misses.SequenceEqual(y.Misses);
        public int GetHashCode(TrigramAccuracy obj) => obj.Correct;
    }
}
