using System.Text.Json.Nodes;
using TrigramLens.Web;
using TrigramLens.Transcoders;

namespace TrigramLens.Trigrams.Study.Report;

/// <summary>
/// Section 9 of the report (study-spec §4.9): a trained transcoder, as the page needs it. The page gets its weights in
/// SAELens's layout and names and runs the encoder itself (feature activations on the live input, logit effects,
/// de-embedding, attention pull-back); <see cref="TranscoderFeatureStats"/> computes each feature's statistics over the
/// analysis set when <see cref="Features"/> is not given. <see cref="ToJson"/> is the contract the page reads (docs/report.md).
/// </summary>
public sealed record TranscoderReport
{
    /// <summary>The transcoder shown; it must stay undisposed until the report is written.</summary>
    public required Transcoder Transcoder { get; init; }
    /// <summary>SAELens's architecture name (<see cref="TranscoderConfig.architecture"/>).</summary>
    public string Architecture => Transcoder.Cfg.architecture;
    public string HookIn => Transcoder.Cfg.hook_name;
    public string HookOut => Transcoder.Cfg.hook_name_out;
    /// <summary>Headline numbers shown as a table, e.g. <c>explained_variance</c>, <c>l0</c>, <c>dead_features</c>.</summary>
    public IReadOnlyDictionary<string, double> Summary { get; init; } = new Dictionary<string, double>();
    /// <summary>Per-feature statistics; null to have them computed over the analysis set.</summary>
    public IReadOnlyList<TranscoderFeature>? Features { get; init; }
    /// <summary>The trigram [a, b, c] each dedicated feature is dedicated to, by feature index, when the caller applies its own
    /// criterion (<see cref="DedicatedRule"/>); null: <see cref="TranscoderFeatureStats.DedicatedShare"/> of the mass.</summary>
    public IReadOnlyDictionary<int, int[]>? Dedicated { get; init; }
    /// <summary>What "dedicated" means on the page, after "Dedicated trigram (a, b, c): ".</summary>
    public string DedicatedRule { get; init; } = "at least half its mass lies on this prefix.";

    public int DIn => Transcoder.Cfg.d_in;
    public int DSae => Transcoder.Cfg.d_sae;
    public int DOut => Transcoder.Cfg.d_out;

    /// <summary>The <c>transcoder</c> object of the page's data (contract in docs/report.md).</summary>
    public JsonObject ToJson(StudyReportInputs inputs)
    {
        var features = Features ?? TranscoderFeatureStats.Compute(this, inputs);
        if (Dedicated is not null) features = features.Select(f => f with { DedicatedTrigram = Dedicated.GetValueOrDefault(f.Index) }).ToList();
        var weights = new JsonObject();
        foreach (var (name, parameter) in Transcoder.NamedParameters()) weights[name] = TensorJson.Float32(parameter);
        var summary = new JsonObject();
        foreach (var (name, value) in Summary) summary[name] = double.IsFinite(value) ? value : null;
        return new JsonObject
        {
            ["architecture"] = Architecture, ["hook_in"] = HookIn, ["hook_out"] = HookOut,
            ["d_in"] = DIn, ["d_sae"] = DSae, ["d_out"] = DOut, ["k"] = Transcoder.Cfg.k,
            ["weights"] = weights,
            ["summary"] = summary,
            ["dedicated_rule"] = DedicatedRule,
            ["stats_over"] = $"the analysis set: {inputs.Rows:N0} rows × {inputs.SeqLen} positions",
            ["features"] = new JsonArray(features.Select(f => (JsonNode)f.ToJson()).ToArray()),
        };
    }
}

/// <summary>A prefix <c>(a, b)</c> (previous and current token) and the share of a feature's activation mass on it.</summary>
/// <param name="Positions">analysis-set positions with this (previous, current) pair where the feature is active</param>
/// <param name="Completion">the trigram completion when (a, b) is a trigram prefix</param>
public sealed record PrefixShare(int A, int B, double Share, long Positions, int? Completion);

/// <summary>One feature's statistics over the analysis set.</summary>
/// <param name="Density">fraction of positions where it is active (&gt; 0)</param>
/// <param name="Histogram">counts of its nonzero activations in equal bins over [0, <paramref name="MaxActivation"/>]</param>
/// <param name="DedicatedTrigram">[a, b, c] when at least half its mass lies on that trigram's prefix; else null</param>
public sealed record TranscoderFeature(int Index, double Density, double MeanActivation, double MaxActivation,
    IReadOnlyList<long> Histogram, IReadOnlyList<PrefixShare> TopPrefixes, int[]? DedicatedTrigram)
{
    public JsonObject ToJson() => new()
    {
        ["index"] = Index, ["density"] = Density, ["mean_activation"] = MeanActivation, ["max_activation"] = MaxActivation,
        ["histogram"] = new JsonArray(Histogram.Select(c => (JsonNode)c).ToArray()),
        ["top_prefixes"] = new JsonArray(TopPrefixes.Select(p => (JsonNode)new JsonObject
        {
            ["a"] = p.A, ["b"] = p.B, ["share"] = p.Share, ["positions"] = p.Positions, ["completion"] = p.Completion,
        }).ToArray()),
        ["dedicated_trigram"] = DedicatedTrigram is null ? null : new JsonArray(DedicatedTrigram.Select(t => (JsonNode)t).ToArray()),
    };
}
