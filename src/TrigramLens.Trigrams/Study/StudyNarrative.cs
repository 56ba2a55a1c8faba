using System.Globalization;
using TrigramLens.Trigrams.Evaluation;
using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Trigrams.Study;

/// <summary>One or two sentences of interpretation per section, derived from the numbers (never canned conclusions).</summary>
public static class StudyNarrative
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    static string Pct(double f) => (100 * f).ToString("F1", C) + "%";
    static string F(double x, int digits = 3) => x.ToString("F" + digits, C);

    public static string Headline(StudyResults r)
    {
        var m = r.Metrics;
        return $"The model completes {m.TrigramAccuracy.Correct} of {m.TrigramAccuracy.Total} trigrams ({Pct(m.TrigramAccuracy.Fraction)}) " +
               $"from their two-token prefix, with mean probability {F(m.MeanCorrectProbability)} on the right completion. " +
               $"Its loss on the analysis set is {F(m.Loss)}, {Pct(m.LossAsFraction)} of the way from the best achievable loss back to uniform guessing.";
    }

    public static string Training(TrainingSummary t) =>
        $"No checkpoint was given, so the study trained one: the {t.Recipe} recipe, seed {t.Seed}, {t.Epochs} epochs in {F(t.WallSeconds, 0)} s, " +
        $"reaching {t.TrigramCorrect} of {t.TrigramTotal} trigrams and validation loss {F(t.ValidationLoss)}.";

    public static string Attention(AttentionResults a)
    {
        var p = a.PreviousTokenAttention;
        return $"At the second token of a trigram prefix the head attends to the first token with median weight {F(p.Median)} " +
               $"(mean {F(p.Mean)}); {Pct(p.FractionAbove09)} of the {p.N} in-data prefixes (prefix positions whose completion lies inside the row) put more than 0.9 on it and {Pct(p.FractionBelow05)} less than 0.5. " +
               $"In context the model predicts {a.InContextCompletions.K} of {a.InContextCompletions.N} planted completions ({Pct(a.InContextCompletions.Fraction)}).";
    }

    public static string Qk(QkResults q)
    {
        string decides = Math.Abs(q.PositionalCurrentOverPrevious) < q.TokenScoreStd
            ? $"smaller than the spread of token-only scores ({F(q.TokenScoreStd, 1)}), so which of the two the head picks is decided by the tokens"
            : $"larger than the spread of token-only scores ({F(q.TokenScoreStd, 1)}), so position alone mostly decides between them";
        return $"From position alone, {q.PositionalPrefersCurrent.K} of {q.PositionalPrefersCurrent.N} query positions score themselves highest and " +
               $"{q.PositionalPrefersPrevious.K} the previous position. Position favours the current over the previous token by {F(q.PositionalCurrentOverPrevious, 1)} on average, {decides}.";
    }

    public static string TokenPairs(TokenPairMapResults t) =>
        $"For {t.RowsWhoseHottestKeyIsAPrefix.K} of the {t.RowsWhoseHottestKeyIsAPrefix.N} distinct second tokens b, the key the head prefers most is a true first token a of some (a, b). " +
        $"Over the whole {t.Vocabulary} × {t.Vocabulary} map, {t.HotSpots} cells have attention of at least {F(t.Threshold, 2)}: precision {F(t.Precision)} " +
        $"({Math.Round(t.Precision * t.HotSpots)} of those {t.HotSpots} hot spots are true prefixes) and recall {F(t.Recall)} " +
        $"({Math.Round(t.Recall * t.PrefixesAmongRowTop.N)} of the {t.PrefixesAmongRowTop.N} prefixes are hot); " +
        $"ranking keys within each row instead, {t.PrefixesAmongRowTop.K} of the {t.PrefixesAmongRowTop.N} prefixes are among their row's top n_b — " +
        (t.Recall >= 0.5 ? "the map covers most prefixes."
            : t.Precision >= 0.5 ? "the head finds one partner per second token reliably but shares its attention poorly when b has several."
            : "its hot spots seldom match true prefixes.");

    public static string Predictions(IReadOnlyList<PredictionDistribution> d, int dVocab)
    {
        var withCompletion = d.Where(x => x.TrigramCompletion is not null).ToList();
        int confident = withCompletion.Count(x => x.CompletionProbability > 0.5);
        int ranked = withCompletion.Count(x => x.Top[0].Token == x.TrigramCompletion);
        var without = d.Where(x => x.TrigramCompletion is null).ToList();
        int lastToken = without.Count(x => x.TopCompletesLastToken);
        double peak = without.Count == 0 ? 0 : without.Max(x => x.Top[0].Probability);
        string first = withCompletion.Count == 0 ? "None of the plotted prefixes ends in a trigram's (a, b)."
            : $"{withCompletion.Count} of the {d.Count} plotted prefixes end in a trigram's (a, b): after {ranked} of them the completion is the top prediction, " +
              $"and after {confident} it gets more than half the probability.";
        if (without.Count == 0) return first;
        return first + $" Of the {without.Count} that do not, {lastToken} still put first a token that completes some trigram whose second token is their last " +
               $"(highest probability {F(peak)}): " +
               (lastToken * 2 > without.Count
                   ? (peak < 3.0 / dVocab ? "the model falls back on the last token alone, but only weakly (uniform is " + F(1.0 / dVocab) + ")." : "the model falls back on the last token alone.")
                   : peak < 3.0 / dVocab ? "away from trigrams the model stays close to uniform." : "away from trigrams the model still makes confident guesses.");
    }

    public static string Simplified(SimplifiedModelResults s)
    {
        int currentHeavy = s.Misses.Count(m => m.AttentionToCurrent > 0.5);
        return $"The simplified model (OV of the first token plus the second token's embedding, through the MLP) completes {s.Accuracy.Correct} of {s.Accuracy.Total} trigrams " +
               $"against the full model's {s.FullModelAccuracy.Correct} of {s.FullModelAccuracy.Total}. In {currentHeavy} of its {s.Misses.Count} misses the full model attends mostly to the current token, " +
               $"where the simplification does not apply; the other {s.Misses.Count - currentHeavy} are failures of the shortcut itself.";
    }

    public static string DirectLogits(DirectLogitAttributionResults d, TrigramAccuracy full)
    {
        double share = full.Correct == 0 ? 0 : (double)d.ResidMidWithMeanAblatedMlp.Correct / full.Correct;
        return $"Unembedding resid_mid directly completes {d.ResidMid.Correct} of {d.ResidMid.Total} trigrams; with the MLP replaced by its mean output, " +
               $"{d.ResidMidWithMeanAblatedMlp.Correct} of {d.ResidMidWithMeanAblatedMlp.Total} ({Pct(d.ResidMidWithMeanAblatedMlp.Fraction)}), " +
               $"which is {Pct(share)} of the {full.Correct} the full model completes. " +
               (share < 0.5 ? "The attention path alone carries a minority of the answers: the MLP's input-dependent computation does most of the work."
                            : "The attention path alone carries most of the answers; the MLP refines them.");
    }

    public static string Jacobians(MlpJacobianResults j, DirectLogitAttributionResults d) =>
        $"Linearising the MLP around its median Jacobian and median bias completes {j.LinearisedAccuracy.Correct} of {j.LinearisedAccuracy.Total} " +
        $"(a constant MLP gets {d.ResidMidWithMeanAblatedMlp.Correct} of {d.ResidMidWithMeanAblatedMlp.Total}): " +
        (j.LinearisedAccuracy.Correct > 2 * d.ResidMidWithMeanAblatedMlp.Correct ? "a linear map captures much of the MLP." : "a single linear map recovers little, so the MLP is strongly non-linear on this task.") +
        $" Closed-form and autograd Jacobians agree to {j.AutogradCheck.MaxAbsDifference.ToString("0.0e+0", C)} on {j.AutogradCheck.Rows} rows.";

    public static string Angles(PrincipalAngleResults a, int forced) =>
        $"{a.DimensionsAbove09} of {a.Cosines.Length} principal directions of the head's output and the MLP's input have cos θ > 0.9 " +
        $"({forced} are forced by dimension counting alone); the smallest cosine is {F(a.Cosines.Min())}. " +
        (a.DimensionsAbove09 > forced ? "The MLP reads much of what the head writes." : "Beyond what dimensions force, the MLP reads little of what the head writes.");

    public static string Variance(ResidualVarianceResults v) =>
        $"Per-dimension variance of resid_mid ranges from {F(v.Min)} to {F(v.Max)} (ratio {F(v.MaxOverMin, 1)}): " +
        (v.MaxOverMin < 10 ? "every dimension is used, within an order of magnitude of the others." : "a few dimensions dominate the residual stream.");

    public static string Transcoder(TranscoderSectionResults t)
    {
        var d = t.Dedicated;
        var n = t.NeuronBaseline;
        string origin = t.Source switch { "trained" => "trained for this study", "reused" => "trained for this model earlier and reused", _ => "given" };
        return $"A {t.Transcoder.Architecture} with {t.Transcoder.DSae:N0} features ({origin}) stands in for the MLP: spliced in, the model completes " +
               $"{t.Spliced.Spliced.Correct} of {t.Spliced.Spliced.Total} trigrams (the MLP itself {t.Spliced.Clean.Correct}, its mean {t.Spliced.MeanAblated.Correct}) " +
               $"and recovers {Pct(t.Spliced.Loss.RecoveredVsMeanAblation)} of the loss the mean ablation loses, with {F(t.Reconstruction.L0, 2)} features active per position. " +
               $"{d.TrigramsOwned} of {d.Trigrams} trigrams own a dedicated feature (at least {Pct(d.ShareThreshold)} of its mass on the prefix, the completion as its top logit effect), " +
               $"against {n.TrigramsOwned} for the MLP's {n.Units} neurons; at most {d.OwnableAtMost} could, those where the MLP's output at the prefix points at the completion on its own. " +
               (2 * d.TrigramsOwned >= d.Trigrams
                   ? "Most trigrams get a feature of their own: the transcoder separates what the neurons hold in superposition."
                   : "Few trigrams get a feature of their own: the MLP's computation does not split into one clean feature per trigram here.");
    }
}
