using TorchSharp;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study.Report;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Study.Report;

/// <summary>The transcoder statistics of the report against a plain per-position loop over the same activations.</summary>
public sealed class TranscoderFeatureStatsTests
{
    const int Features = 12, Rows = 6;

    static TranscoderReport Synthetic(string architecture) =>
        new() { Transcoder = SyntheticTranscoders.Random(architecture, 32, Features, seed: 11, k: 3) };

    [Theory]
    [InlineData("transcoder")]
    [InlineData("jumprelu_transcoder")]
    [InlineData("topk_transcoder")]
    [InlineData("jumprelu_skip_transcoder")]
    public void Density_histogram_and_prefix_shares_equal_a_plain_count(string architecture)
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 9));
        using var data = TrigramDataset.Generate(TrigramDataConfig.Arena, Rows);
        var t = Synthetic(architecture);
        var inputs = StudyReportInputs.From(model, data, t);
        var stats = TranscoderFeatureStats.Compute(t, inputs, batchRows: 4);   // two batches, the last one short

        // The plain way: every position's activations one by one, sums in dictionaries.
        using var _ = no_grad();
        var (_, cache) = model.RunWithCache(data.Tokens, "blocks.0.hook_resid_mid");
        var tokens = data.Tokens.data<long>().ToArray();
        var acts = t.Transcoder.Encode(cache["resid_mid", 0].reshape(-1, 32)).to(ScalarType.Float64).data<double>().ToArray();   // [pos, feature]
        cache.Dispose();
        int positions = Rows * 50;
        for (int f = 0; f < Features; f++)
        {
            double total = 0, max = 0;
            int active = 0;
            var mass = new Dictionary<(int, int), double>();
            for (int i = 0; i < positions; i++)
            {
                double a = acts[i * Features + f];
                total += a;
                if (a > 0) active++;
                max = Math.Max(max, a);
                if (i % 50 == 0) continue;   // position 0 has no previous token
                var key = ((int)tokens[i - 1], (int)tokens[i]);
                mass[key] = mass.GetValueOrDefault(key) + a;
            }
            var s = stats[f];
            Assert.Equal(f, s.Index);
            Assert.Equal(active / (double)positions, s.Density, 12);
            Assert.Equal(max, s.MaxActivation, 5);
            Assert.Equal(active, s.Histogram.Sum());
            if (active == 0) { Assert.Empty(s.TopPrefixes); continue; }
            Assert.Equal(total / active, s.MeanActivation, 5);
            var best = mass.OrderByDescending(kv => kv.Value).First();
            Assert.Equal(best.Value / total, s.TopPrefixes[0].Share, 5);
            Assert.Equal(mass[(s.TopPrefixes[0].A, s.TopPrefixes[0].B)], best.Value, 5);
            Assert.Equal(data.Trigrams.Completion(s.TopPrefixes[0].A, s.TopPrefixes[0].B), s.TopPrefixes[0].Completion);
            bool dedicated = s.TopPrefixes[0].Share >= TranscoderFeatureStats.DedicatedShare && s.TopPrefixes[0].Completion is not null;
            Assert.Equal(dedicated, s.DedicatedTrigram is not null);
        }
        if (architecture == "topk_transcoder") Assert.True(stats.Sum(s => s.Density) <= 3 + 1e-9);   // at most k = 3 features per position
    }
}
