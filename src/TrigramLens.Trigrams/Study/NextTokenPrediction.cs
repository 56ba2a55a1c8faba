using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Study;

/// <summary>The model's next-token distribution after a prefix, and what it says about trigrams (study-spec §4 item 5).</summary>
public static class NextTokenPrediction
{
    /// <returns>the study's record of it (<paramref name="figure"/> names the plot of it), and the probabilities themselves
    /// [d_vocab_out], for the plot</returns>
    public static (PredictionDistribution Result, float[] Probabilities) After(HookedTransformer model, int[] prefix, TrigramSet trigrams, string figure)
    {
        if (prefix.Length == 0) throw new ArgumentException("a prefix needs at least one token");
        float[] probabilities;
        using (no_grad())
        using (NewDisposeScope())
            probabilities = model.call(tensor(prefix.Select(t => (long)t).ToArray()))[0, -1].softmax(-1).data<float>().ToArray();
        int? completion = prefix.Length >= 2 ? trigrams.Completion(prefix[^2], prefix[^1]) : null;
        var top = probabilities.Select((p, t) => new TokenProbability(t, p)).OrderByDescending(x => x.Probability).Take(5).ToList();
        // Leaning on the last token alone: the top guess completes some trigram whose second token is that last token.
        bool lastTokenGuess = trigrams.Trigrams.Any(t => t.B == prefix[^1] && t.C == top[0].Token);
        var result = new PredictionDistribution(prefix, completion, completion is int c ? probabilities[c] : null, top, lastTokenGuess, figure);
        return (result, probabilities);
    }
}
