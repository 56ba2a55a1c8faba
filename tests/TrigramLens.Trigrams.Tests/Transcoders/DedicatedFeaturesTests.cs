using TorchSharp;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Transcoders;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Transcoders;

public sealed class DedicatedFeaturesTests
{
    static readonly TrigramSet Set = new([new Trigram(1, 2, 3), new Trigram(4, 5, 6), new Trigram(2, 2, 0)], dVocab: 8);

    static FeaturePairMass Feature(int index, params (int Previous, int Current, double Mass)[] pairs) =>
        new(index, pairs.Sum(p => p.Mass), pairs.Length, pairs.Select(p => new PairMass(p.Previous, p.Current, p.Mass)).OrderByDescending(p => p.Mass).ToList());

    [Fact]
    public void A_feature_is_dedicated_with_90_percent_of_its_mass_on_a_prefix_and_the_completion_as_top_logit()
    {
        var dedicated = Feature(0, (1, 2, 9.0), (7, 2, 1.0));                    // exactly 90 %
        Assert.Equal(new DedicatedFeature(0, 1, 2, 3, 0.9), DedicatedFeatures.Dedication(dedicated, topLogitToken: 3, Set));
        Assert.Null(DedicatedFeatures.Dedication(dedicated, topLogitToken: 4, Set));                    // writes something else
        Assert.Null(DedicatedFeatures.Dedication(Feature(1, (1, 2, 8.9), (7, 2, 1.1)), 3, Set));        // 89 %
        Assert.Null(DedicatedFeatures.Dedication(Feature(2, (3, 2, 10.0)), 3, Set));                    // (3, 2) is no prefix
        Assert.Null(DedicatedFeatures.Dedication(Feature(3, (-1, 2, 10.0)), 3, Set));                   // position 0 has no pair
        Assert.Null(DedicatedFeatures.Dedication(Feature(4), 3, Set));                                  // never fired
        Assert.Null(DedicatedFeatures.Dedication(Feature(5, (1, 2, 5.0), (4, 5, 5.0)), 3, Set));        // split between two
    }

    [Fact]
    public void Trigrams_owned_counts_distinct_trigrams_not_features()
    {
        var masses = new[] { Feature(0, (1, 2, 1.0)), Feature(1, (1, 2, 2.0)), Feature(2, (4, 5, 1.0)), Feature(3, (2, 2, 1.0)) };
        var found = DedicatedFeatures.Find(masses, [3, 3, 6, 7], Set);
        Assert.Equal([0, 1, 2], found.Select(d => d.Feature));
        Assert.Equal(2, DedicatedFeatures.TrigramsOwned(found));
    }

    [Fact]
    public void The_batch_source_draws_what_the_dataset_generator_draws_after_the_trigrams()
    {
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, size: 7);
        using var g = new Generator(40);
        var trigrams = TrigramSet.Generate(g, 75, 277);
        var source = new TrigramBatchSource(trigrams, 50, rows: 7);
        using var drawn = source.Draw(g);
        Assert.Equal(dataset.Tokens.data<long>().ToArray(), drawn.data<long>().ToArray());
        using var next = source.Draw(g);
        Assert.NotEqual(drawn.data<long>().ToArray(), next.data<long>().ToArray());
        // Every trigram prefix in a drawn batch is followed by its completion.
        long[] t = next.data<long>().ToArray();
        for (int r = 0; r < 7; r++)
            for (int p = 0; p + 2 < 50; p++)
                if (trigrams.Completion((int)t[r * 50 + p], (int)t[r * 50 + p + 1]) is int c) Assert.Equal(c, t[r * 50 + p + 2]);
    }

    /// <summary>The bound against a plain loop: per trigram, the mean MLP output over the prefix's positions minus the mean
    /// over every position, through W_U, has the completion on top.</summary>
    [Fact]
    public void Ownable_at_most_counts_the_prefixes_whose_mean_output_alone_points_at_the_completion()
    {
        using var model = new TrigramLens.Model.HookedTransformer(TrigramLens.Testing.TinyModels.Arena(seed: 5));
        var set = new TrigramSet([new Trigram(1, 2, 3), new Trigram(4, 5, 6), new Trigram(2, 2, 0), new Trigram(3, 1, 7), new Trigram(70, 71, 9)], dVocab: 75);
        using var g = new Generator(8);
        var tokens = randint(0, 6, [40, 50], generator: g);                          // pairs of tokens 0–5 recur; (70, 71) never
        var mlpOut = randn([40, 50, 32], generator: g);
        long[] tok = tokens.data<long>().ToArray();
        float[] wu = model.W_U.detach().contiguous().data<float>().ToArray();        // [d_model, d_vocab]
        // Where the first two trigrams' prefixes occur, the output leans towards their completion's unembedding.
        using (no_grad())
            for (int i = 0; i < tok.Length; i++)
                if (i % 50 > 0 && set.Completion((int)tok[i - 1], (int)tok[i]) is int c && c is 3 or 6)
                    mlpOut[i / 50, i % 50].add_(TrigramLens.Testing.Held.Mul(model.W_U[.., c].detach(), 3), TrigramLens.Runtime.HeldScalars.One);
        float[] y = mlpOut.contiguous().data<float>().ToArray();

        var mean = new double[32];
        for (int i = 0; i < tok.Length; i++) for (int k = 0; k < 32; k++) mean[k] += y[i * 32 + k] / tok.Length;
        int expected = 0;
        foreach (var t in set.Trigrams)
        {
            var sum = new double[32];
            int n = 0;
            for (int i = 0; i < tok.Length; i++)
                if (i % 50 > 0 && tok[i - 1] == t.A && tok[i] == t.B) { n++; for (int k = 0; k < 32; k++) sum[k] += y[i * 32 + k]; }
            if (n == 0) continue;
            var logits = Enumerable.Range(0, 75).Select(v => Enumerable.Range(0, 32).Sum(k => (sum[k] / n - mean[k]) * wu[k * 75 + v])).ToArray();
            if (Array.IndexOf(logits, logits.Max()) == t.C) expected++;
        }
        int ownable = DedicatedFeatures.OwnableAtMost(model, tokens, mlpOut, set);
        Assert.Equal(expected, ownable);
        Assert.InRange(ownable, 2, 4);                                               // the two pushed ones, the never-seen one not
    }

    /// <summary>On ARENA's checkpoint the bound is what tools/transcoders/ceilings.py computes with PyTorch alone
    /// ("b_dec = mean output": 193), docs/transcoders.md.</summary>
    [TrigramLens.Testing.ArenaCheckpointFact]
    public void Ownable_at_most_on_arenas_checkpoint_equals_the_pytorch_bound()
    {
        using var model = TrigramLens.Checkpoints.ModelCheckpoint.Load(TrigramLens.Testing.ReferenceData.RequireArenaCheckpoint(),
            TrigramLens.Trigrams.Training.TrigramModelConfig.CheckpointOptions);
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, TranscoderSection.AnalysisRows);
        using var _ = no_grad();
        var (logits, cache) = model.RunWithCache(dataset.Tokens, TrigramTranscoderAnalysis.HookOut);
        logits.Dispose();
        using (cache) Assert.Equal(193, DedicatedFeatures.OwnableAtMost(model, dataset.Tokens, cache[TrigramTranscoderAnalysis.HookOut], dataset.Trigrams));
    }
}
