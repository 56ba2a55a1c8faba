using TrigramLens.Model;
using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Trigrams.Study;

/// <summary>What the study analyses and where it writes.</summary>
public sealed record StudyOptions
{
    /// <summary>The published investigation's prefixes: repeated-token trigrams, non-trigram pairs, a normal trigram.</summary>
    public static readonly IReadOnlyList<int[]> DefaultPrefixes =
    [
        [72, 72], [1, 72], [74, 72], [1, 74, 72], [54, 54], [1, 54], [74, 54], [32, 52], [1, 32, 52], [31, 52], [26, 49],
    ];

    public string OutputDirectory { get; init; } = "trigramlens-study";
    /// <summary>Seed of the trigram set and of the analysis dataset.</summary>
    public int Seed { get; init; } = 40;
    /// <summary>Sequences in the analysis dataset (the published study used 2,500).</summary>
    public int AnalysisSize { get; init; } = 2500;
    /// <summary>The first this many rows of the analysis dataset get attention and token-QK figures.</summary>
    public int Rows { get; init; } = 3;
    /// <summary>Further rows, anywhere in the analysis dataset, that get those figures too.</summary>
    public IReadOnlyList<int> ExtraRows { get; init; } = [];
    /// <summary>Prefixes whose next-token distributions are plotted, in addition to <see cref="DefaultPrefixes"/>.</summary>
    public IReadOnlyList<int[]> ExtraPrefixes { get; init; } = [];
    /// <summary>Token-pair attention above which a (query, key) cell counts as a hot spot.</summary>
    public double HotSpotThreshold { get; init; } = 0.1;
    /// <summary>Set when the model was trained for this study; shown in the report.</summary>
    public TrainingSummary? Training { get; init; }
    /// <summary>
    /// Section 9, the sparse transcoder of the MLP: how it gets one (trains the default transcoder, reuses one kept for the
    /// same model file, or studies a given SAELens folder). Null skips the section: a library caller opts in, the command
    /// line does unless told <c>--no-transcoder</c>.
    /// </summary>
    public TranscoderSectionOptions? Transcoder { get; init; }
    /// <summary>Rows on which the closed-form Jacobians are cross-checked against autograd through hooks.</summary>
    public int JacobianCheckRows { get; init; } = 8;

    /// <summary>Rows drawn: the first <see cref="Rows"/> and every extra row, each once, in order.</summary>
    public IReadOnlyList<int> AttentionRows => Enumerable.Range(0, Rows).Concat(ExtraRows).Distinct().Order().ToList();

    /// <summary>
    /// The prefixes to plot for a model: the defaults that fit its vocabulary and context (the published set assumes
    /// 75 tokens), then the extra ones, each once. An extra prefix that does not fit is an error.
    /// </summary>
    public IReadOnlyList<int[]> ResolvePrefixes(HookedTransformerConfig cfg)
    {
        bool Fits(int[] p) => p.Length >= 1 && p.Length <= cfg.n_ctx && p.All(t => t >= 0 && t < cfg.d_vocab);
        foreach (var p in ExtraPrefixes)
            if (!Fits(p)) throw new ArgumentException($"prefix {string.Join(",", p)} must hold 1 to {cfg.n_ctx} tokens in [0, {cfg.d_vocab})");
        return DefaultPrefixes.Where(Fits).Concat(ExtraPrefixes).DistinctBy(p => string.Join(",", p)).ToList();
    }

    public void Validate()
    {
        if (Seed < 0) throw new ArgumentException($"seed must not be negative (got {Seed})");
        if (AnalysisSize < 10) throw new ArgumentException($"the analysis dataset needs at least 10 sequences (got {AnalysisSize})");
        if (Rows < 1 || Rows > AnalysisSize) throw new ArgumentException($"rows must lie in [1, {AnalysisSize}] (got {Rows})");
        foreach (int row in ExtraRows)
            if (row < 0 || row >= AnalysisSize) throw new ArgumentException($"row {row} is outside the analysis dataset [0, {AnalysisSize})");
        if (HotSpotThreshold is <= 0 or >= 1) throw new ArgumentException($"hot-spot threshold must lie in (0, 1) (got {HotSpotThreshold})");
        if (JacobianCheckRows < 1 || JacobianCheckRows > AnalysisSize) throw new ArgumentException($"jacobian check rows must lie in [1, {AnalysisSize}]");
    }
}
