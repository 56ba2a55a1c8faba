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
}
