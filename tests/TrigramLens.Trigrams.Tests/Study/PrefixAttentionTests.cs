using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Training;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Study;

public class PrefixAttentionTests
{
    /// <summary>Every number recomputed with plain loops over the tensors' values.</summary>
    static (long predicted, long total, List<double> previous) Plain(float[] pattern, float[] logits, long[] tokens, long[] positions,
        int rows, int pos, int vocab)
    {
        long predicted = 0, total = 0;
        var previous = new List<double>();
        for (int i = 0; i < positions.Length; i += 2)
        {
            int row = (int)positions[i], p = (int)positions[i + 1];
            if (p + 2 >= pos) continue;                                // the completion falls outside the sequence
            total++;
            int argmax = 0;
            for (int v = 1; v < vocab; v++)
                if (logits[(row * pos + p + 1) * vocab + v] > logits[(row * pos + p + 1) * vocab + argmax]) argmax = v;
            if (argmax == tokens[row * pos + p + 2]) predicted++;
            previous.Add(pattern[(row * pos + p + 1) * pos + p]);
        }
        return (predicted, total, previous);
    }

    static void AssertAgreesWithPlainLoops(HookedTransformer model, TrigramDataset data)
    {
        using var _ = no_grad();
        var (logits, cache) = model.RunWithCache(data.Tokens, "blocks.0.attn.hook_pattern");
        using (cache)
        {
            var pattern = cache["pattern", 0][.., 0];
            var positions = data.TrigramPositions();
            int rows = (int)data.Size, pos = (int)data.Tokens.shape[1], vocab = model.Cfg.d_vocab;
            var (predicted, total, previous) = Plain(pattern.contiguous().data<float>().ToArray(), logits.contiguous().data<float>().ToArray(),
                data.Tokens.data<long>().ToArray(), positions.data<long>().ToArray(), rows, pos, vocab);
            Assert.True(total > 0 && total < positions.shape[0], "some prefixes have their completion outside the sequence");
            var count = PrefixAttention.InContextCompletions(logits, data.Tokens, positions);
            Assert.Equal((predicted, total), (count.K, count.N));
            Assert.Equal(previous, PrefixAttention.PreviousTokenAttention(pattern, positions));
        }
    }

    [Fact]
    public void Completions_and_previous_token_weights_equal_plain_loops_on_an_untrained_model()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 8));
        using var data = TrigramDataset.Generate(TrigramDataConfig.For(40), 60);
        AssertAgreesWithPlainLoops(model, data);
    }

    // ARENA's checkpoint: 5390 of 5629 in-data completions (ARENA's notebook); the attention summary pinned as the plain
    // recomputation above gives it.
    [ArenaCheckpointFact]
    public void ARENAs_checkpoint_completes_5390_of_5629_in_data_trigrams()
    {
        using var model = ModelCheckpoint.Load(ReferenceData.RequireArenaCheckpoint(), TrigramModelConfig.CheckpointOptions);
        using var data = TrigramDataset.Generate(TrigramDataConfig.For(40), 2500);
        AssertAgreesWithPlainLoops(model, data);
        using var _ = no_grad();
        var (logits, cache) = model.RunWithCache(data.Tokens, "blocks.0.attn.hook_pattern");
        using (cache)
        {
            var positions = data.TrigramPositions();
            var count = PrefixAttention.InContextCompletions(logits, data.Tokens, positions);
            Assert.Equal((5390L, 5629L), (count.K, count.N));
            var d = Distribution.Of(PrefixAttention.PreviousTokenAttention(cache["pattern", 0][.., 0], positions));
            Assert.Equal(0.8250, d.Median, 4);
            Assert.Equal(0.6750, d.Mean, 4);
            Assert.Equal(1766, (int)Math.Round(d.FractionAbove09 * d.N));
            Assert.Equal(1196, (int)Math.Round(d.FractionBelow05 * d.N));
        }
    }
}
