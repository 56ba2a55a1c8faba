using System.Text.Json.Serialization;
using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Training;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using static TorchSharp.torch;

using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Trigrams.Study;

// The study's numbers, shaped as results.json (snake_case keys; see docs/results.md). Counts are exact integers.

public sealed record StudyResults(
    int SchemaVersion,
    ModelInfo Model,
    AnalysisDatasetInfo AnalysisDataset,
    HeadlineMetrics Metrics,
    AttentionResults Attention,
    QkResults Qk,
    TokenPairMapResults TokenPairMap,
    IReadOnlyList<int[]> TrigramTable,
    IReadOnlyList<PredictionDistribution> PredictionDistributions,
    SimplifiedModelResults SimplifiedModel,
    DirectLogitAttributionResults DirectLogitAttribution,
    MlpJacobianResults MlpJacobian,
    PrincipalAngleResults PrincipalAngles,
    ResidualVarianceResults ResidualVariance,
    IReadOnlyList<FigureInfo> Figures,
    IReadOnlyDictionary<string, double> StageSeconds,
    TranscoderSectionResults? Transcoder = null);

/// <param name="Training">how the model was trained, when the study trained it</param>
public sealed record ModelInfo(string Source, HookedTransformerConfig Config, TrainingSummary? Training);

/// <summary>A model the study trained itself: recipe, seed, outcome and the training-curves figure beside the report.</summary>
public sealed record TrainingSummary(string Recipe, int Seed, int Epochs, double WallSeconds, int TrigramCorrect, int TrigramTotal,
    double ValidationLoss, string? CurvesFile);

public sealed record AnalysisDatasetInfo(int Seed, long Size, int SeqLen, int DVocab, int NTrigrams, long TrigramPositions);

public sealed record HeadlineMetrics(TrigramAccuracy TrigramAccuracy, double MeanCorrectProbability, double Loss, double LossAsFraction)
{
    /// <summary>The model on every trigram's prefix, and its next-token loss on the analysis set from the cached logits.</summary>
    /// <param name="logits">[rows, pos, d_vocab] the model's logits on <paramref name="dataset"/>'s tokens</param>
    public static HeadlineMetrics Of(HookedTransformer model, TrigramDataset dataset, Tensor logits)
    {
        var onTrigrams = TrigramModelMetrics.OnTrigrams(model, dataset.Trigrams);
        using var loss = NextTokenLoss.Compute(logits, dataset.Tokens);
        double value = loss.item<float>();
        return new HeadlineMetrics(onTrigrams.Accuracy, onTrigrams.MeanCorrectProbability, value,
            TrigramModelMetrics.LossFraction(value, dataset.Config.DVocab, dataset.Config.ResolvedTrigramProb));
    }
}

/// <param name="InContextCompletions">trigram completions inside the analysis dataset (prefix at positions ≤ seq_len − 3)
/// that the model's argmax predicts</param>
/// <param name="PreviousTokenAttention">attention from the second token of every in-data trigram prefix to the first</param>
public sealed record AttentionResults(IReadOnlyList<int> Rows, Count InContextCompletions, Distribution PreviousTokenAttention);

/// <param name="PositionalPrefersCurrent">query positions ≥ 1 whose highest positional score (over keys ≤ query) is their own position</param>
/// <param name="PositionalPrefersPrevious">… is the previous position</param>
/// <param name="PositionalCurrentOverPrevious">mean over queries ≥ 1 of the positional score of the current position minus
/// that of the previous one: how much position alone favours staying over looking back</param>
/// <param name="PositionalScoreStd">spread of positional scores over the causal (key ≤ query) half</param>
/// <param name="TokenScoreStd">spread of token-only scores over the causal half, analysis row 0</param>
public sealed record QkResults(Count PositionalPrefersCurrent, Count PositionalPrefersPrevious, double PositionalCurrentOverPrevious,
    double PositionalScoreStd, double TokenScoreStd)
{
    public static QkResults From(PositionalPreference preference, double positionalSpread, double tokenSpread) => new(
        new Count(preference.PrefersCurrent, preference.Queries), new Count(preference.PrefersPrevious, preference.Queries),
        preference.CurrentOverPrevious, positionalSpread, tokenSpread);
}

public sealed record TokenPairMapResults(
    int FigureTokens, int Vocabulary, Count RowsWhoseHottestKeyIsAPrefix, double Threshold, int HotSpots,
    double Precision, double Recall, Count PrefixesAmongRowTop, IReadOnlyList<MissedPair> MissedPairs);

/// <param name="TopCompletesLastToken">the most probable token completes some trigram whose second token is the prefix's
/// last token: the model leaning on the last token alone</param>
public sealed record PredictionDistribution(int[] Prefix, int? TrigramCompletion, double? CompletionProbability,
    IReadOnlyList<TokenProbability> Top, bool TopCompletesLastToken, string Figure);

public sealed record TokenProbability(int Token, double Probability);

public sealed record SimplifiedModelResults(TrigramAccuracy Accuracy, TrigramAccuracy FullModelAccuracy, IReadOnlyList<SimplifiedMiss> Misses);

public sealed record DirectLogitAttributionResults(TrigramAccuracy ResidMid, TrigramAccuracy ResidMidWithMeanAblatedMlp, float[] MeanMlpOut);

/// <param name="Positions">Jacobians computed: every (row, position) of the analysis dataset</param>
/// <param name="AutogradCheck">closed form against autograd through hooks on the first rows</param>
public sealed record MlpJacobianResults(long Positions, float[][] Mean, float[][] Median, float[] MedianBias,
    TrigramAccuracy LinearisedAccuracy, JacobianCheck AutogradCheck, double MedianFrobeniusNorm, double MeanFrobeniusNorm);

public sealed record JacobianCheck(int Rows, double MaxAbsDifference);

public sealed record PrincipalAngleResults(float[] Cosines, double[] AnglesDegrees,
    [property: JsonPropertyName("dimensions_above_0_9")] int DimensionsAbove09)
{
    /// <summary>Angles in degrees (cosines clipped to [−1, 1] first: rounding can leave a shared direction at 1.0000001)
    /// and how many cosines exceed 0.9.</summary>
    public static PrincipalAngleResults FromCosines(float[] cosines) => new(cosines,
        cosines.Select(c => Math.Acos(Math.Clamp((double)c, -1, 1)) * 180 / Math.PI).ToArray(), cosines.Count(c => c > 0.9));
}

public sealed record ResidualVarianceResults(float[] Variance, double Min, double Max, double MaxOverMin)
{
    public static ResidualVarianceResults FromVariance(float[] variance) =>
        new(variance, variance.Min(), variance.Max(), (double)variance.Max() / variance.Min());
}

public sealed record FigureInfo(string File, string Section, string Caption);

/// <summary>A count out of a total, with the fraction.</summary>
public sealed record Count(long K, long N)
{
    public double Fraction => N == 0 ? 0 : (double)K / N;
    public override string ToString() => $"{K} / {N} ({Fraction:P1})";
}
