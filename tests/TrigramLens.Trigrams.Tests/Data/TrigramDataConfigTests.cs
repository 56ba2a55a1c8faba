using TrigramLens.Model;
using TrigramLens.Trigrams.Data;

namespace TrigramLens.Trigrams.Tests.Data;

public class TrigramDataConfigTests
{
    /// <summary>
    /// Every command and the study make their data through <see cref="TrigramDataConfig.For"/>; for a model other than
    /// the challenge's it must be sized to that model, or the tokens index past its embedding. Checked on the data
    /// itself (token range, row length, ARENA's trigram count formula), not only on the config's fields.
    /// </summary>
    [Fact]
    public void Data_for_a_model_takes_its_vocabulary_and_context_and_the_challenges_other_settings()
    {
        var small = new HookedTransformerConfig(n_layers: 1, d_model: 8, n_ctx: 9, d_head: 4, d_vocab: 12, d_mlp: 8,
            normalization_type: NormalizationType.None);
        var config = TrigramDataConfig.For(5, small);
        Assert.Equal((5, 12, 9, 0.05), (config.Seed, config.DVocab, config.SeqLen, config.TrigramProb));

        using var data = TrigramDataset.Generate(config, 40);
        Assert.Equal([40L, 9L], data.Tokens.shape);
        long[] tokens = data.Tokens.data<long>().ToArray();
        Assert.All(tokens, t => Assert.InRange(t, 0, 11));
        Assert.Equal(6, data.Trigrams.Count);                    // int(trigram_prob · d_vocab · (d_vocab − 1)) = int(6.6)

        // Without a model, the challenge's settings with the seed.
        Assert.Equal(TrigramDataConfig.Arena with { Seed = 5 }, TrigramDataConfig.For(5));
    }
}
