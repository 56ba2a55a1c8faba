using TrigramLens.Trigrams.Evaluation;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Trigrams.Tests.Study;

public sealed class StudyNarrativeTests
{
    static TranscoderSectionResults Section(int owned, int neuronsOwned)
    {
        TrigramAccuracy Accuracy(int correct) => new(correct, 277, []);
        DedicationSummary Dedication(int units, int trigramsOwned) => new(units, 0.9, trigramsOwned, 277, 193, trigramsOwned, 1, []);
        return new TranscoderSectionResults("trained", null, null,
            new TranscoderSummary("jumprelu_skip_transcoder", 32, 1024, 32, null, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out"),
            new ReconstructionSummary(0.006, 0.994, 0.1, 0.93, 421, 603, 0, 0.1, 0.41),
            new SplicedSummary(Accuracy(266), Accuracy(265), Accuracy(69), Accuracy(50), new LossSummary(4.1566, 4.157, 4.9, 5.2, 0.9995, 0.9997)),
            Dedication(1024, owned), Dedication(20, neuronsOwned), []);
    }

    // The sentence follows the numbers: a handful of owned trigrams is not "the transcoder separates them", even when the
    // neurons own none (the published default: 4 of 277 against 0).
    [Theory]
    [InlineData(4, 0, "Few trigrams get a feature of their own")]
    [InlineData(138, 0, "Few trigrams get a feature of their own")]
    [InlineData(139, 0, "Most trigrams get a feature of their own")]
    [InlineData(260, 12, "Most trigrams get a feature of their own")]
    public void The_transcoder_sentence_follows_how_many_trigrams_own_a_feature(int owned, int neuronsOwned, string expected)
    {
        string text = StudyNarrative.Transcoder(Section(owned, neuronsOwned));
        Assert.Contains(expected, text);
        Assert.Contains($"{owned} of 277 trigrams own a dedicated feature", text);
        Assert.Contains($"against {neuronsOwned} for the MLP's 20 neurons", text);
        Assert.Contains("at most 193 could", text);
        Assert.Contains("completes 265 of 277", text);
    }
}
