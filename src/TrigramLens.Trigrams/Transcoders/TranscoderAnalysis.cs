using System.Text.Json.Serialization;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Evaluation;

namespace TrigramLens.Trigrams.Transcoders;

// What the trigram analysis of a transcoder measures, shaped as metrics.json (snake_case keys; docs/transcoders.md).

/// <param name="Features">every live feature, for features.json</param>
/// <param name="Neurons">every MLP neuron, analysed the same way (the baseline)</param>
/// <param name="Masses">each feature's activation mass by token pair, for figures</param>
/// <param name="NeuronMasses">each neuron's, likewise</param>
/// <param name="Density">each feature's fraction of active positions [d_sae]</param>
public sealed record TranscoderAnalysis(
    TranscoderSummary Transcoder,
    AnalysisSetSummary AnalysisSet,
    ReconstructionSummary Reconstruction,
    SplicedSummary Spliced,
    DedicationSummary Dedicated,
    DedicationSummary NeuronBaseline,
    [property: JsonIgnore] IReadOnlyList<FeatureSummary> Features,
    [property: JsonIgnore] IReadOnlyList<FeatureSummary> Neurons,
    [property: JsonIgnore] IReadOnlyList<FeaturePairMass> Masses,
    [property: JsonIgnore] IReadOnlyList<FeaturePairMass> NeuronMasses,
    [property: JsonIgnore] float[] Density);

public sealed record TranscoderSummary(string Architecture, int DIn, int DSae, int DOut, int? K, string HookName, string HookNameOut);

/// <param name="TrigramPrefixPositions">positions whose (previous, current) tokens are a trigram prefix</param>
public sealed record AnalysisSetSummary(int Seed, long Rows, int SeqLen, long Positions, int Trigrams, long TrigramPrefixPositions);

/// <param name="Fvu">Σ‖y − ŷ‖² / Σ‖y − ȳ‖² over every position of the analysis set</param>
/// <param name="L0">mean active features per position</param>
/// <param name="Dead">features active on no position of the set</param>
/// <param name="Dense">features active on more than <paramref name="DenseThreshold"/> of the positions</param>
public sealed record ReconstructionSummary(double Fvu, double ExplainedVariance, double Mse, double L0, int Dead, int Live, int Dense,
    double DenseThreshold, double DeadFraction);

/// <summary>Trigram accuracy (2-token prefixes) and loss (analysis set) with <c>hook_mlp_out</c> left alone, replaced by the
/// transcoder, by its mean, and by zeros.</summary>
public sealed record SplicedSummary(TrigramAccuracy Clean, TrigramAccuracy Spliced, TrigramAccuracy MeanAblated, TrigramAccuracy ZeroAblated,
    LossSummary Loss);

/// <param name="RecoveredVsMeanAblation">(L_mean − L_spliced) / (L_mean − L_clean)</param>
/// <param name="RecoveredVsZeroAblation">(L_zero − L_spliced) / (L_zero − L_clean)</param>
public sealed record LossSummary(double Clean, double Spliced, double MeanAblated, double ZeroAblated,
    double RecoveredVsMeanAblation, double RecoveredVsZeroAblation);

/// <param name="Units">features (or neurons) examined</param>
/// <param name="TrigramsOwned">trigrams with at least one dedicated feature: the headline</param>
/// <param name="OwnableAtMost">the most trigrams any units that fire alone on a prefix could own: those whose MLP output there, less
/// its mean, has the completion as top logit (<see cref="DedicatedFeatures.OwnableAtMost"/>)</param>
/// <param name="DedicatedUnits">features dedicated to some trigram (several may share one)</param>
/// <param name="BestTopShare">the largest share of any unit's mass on a single token pair</param>
public sealed record DedicationSummary(int Units, double ShareThreshold, int TrigramsOwned, int Trigrams, int OwnableAtMost, int DedicatedUnits,
    double BestTopShare, IReadOnlyList<DedicatedFeature> Table);

/// <summary>One feature (or neuron): how often it fires, where its mass lies, what it writes and what drives it.</summary>
/// <param name="Mass">its summed activation over the analysis set</param>
/// <param name="TopPairs">the (previous, current) pairs with the largest share of <paramref name="Mass"/>, with the trigram
/// completion of the pair where it is a prefix</param>
/// <param name="LogitTop">tokens of largest direct logit effect <c>W_dec[f] · W_U</c></param>
/// <param name="DeEmbedding">current tokens that drive it most: <c>W_E · W_enc[:, f]</c></param>
/// <param name="PullBack">earlier tokens that drive it most through the head: <c>W_E · W_V W_O · W_enc[:, f]</c></param>
public sealed record FeatureSummary(int Index, double Density, long ActivePositions, double Mass, IReadOnlyList<PairShare> TopPairs,
    IReadOnlyList<TokenScore> LogitTop, IReadOnlyList<TokenScore> LogitBottom, IReadOnlyList<TokenScore> DeEmbedding,
    IReadOnlyList<TokenScore> PullBack, DedicatedFeature? DedicatedTo);

/// <param name="Previous">-1 for position 0, which has no previous token</param>
public sealed record PairShare(int Previous, int Current, double Share, int? Completion);

public sealed record TokenScore(int Token, double Value);
