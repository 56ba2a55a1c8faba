using System.Text.Json.Nodes;
using TrigramLens.Web;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Trigrams.Study.Report;

/// <summary>
/// Section 9 of the report (study-spec §4.9): a trained transcoder, as the page needs it. Weights follow SAELens's layout
/// and names; the page runs the encoder itself (feature activations on the live input, logit effects, de-embedding,
/// attention pull-back), and <see cref="TranscoderFeatureStats"/> computes each feature's statistics over the analysis set
/// when <see cref="Features"/> is not given. <see cref="ToJson"/> is the contract the page reads (docs/report.md).
/// </summary>
public sealed record TranscoderReport
{
    public static readonly IReadOnlyList<string> Architectures = ["transcoder", "jumprelu_transcoder", "topk_transcoder", "skip_transcoder"];

    /// <summary>SAELens's names: <c>transcoder</c> (ReLU), <c>jumprelu_transcoder</c> (needs <see cref="Threshold"/>),
    /// <c>skip_transcoder</c> (ReLU plus <see cref="W_skip"/>), and <c>topk_transcoder</c> (ReLU then the top <see cref="K"/>).</summary>
    public required string Architecture { get; init; }
    public string HookIn { get; init; } = "blocks.0.hook_resid_mid";
    public string HookOut { get; init; } = "blocks.0.hook_mlp_out";
    /// <summary>[d_in, d_sae]</summary>
    public required Tensor W_enc { get; init; }
    /// <summary>[d_sae]</summary>
    public required Tensor b_enc { get; init; }
    /// <summary>[d_sae, d_out]</summary>
    public required Tensor W_dec { get; init; }
    /// <summary>[d_out]</summary>
    public required Tensor b_dec { get; init; }
    /// <summary>[d_sae], JumpReLU only</summary>
    public Tensor? Threshold { get; init; }
    /// <summary>[d_out, d_in], skip transcoders only: the output adds <c>x W_skipᵀ</c></summary>
    public Tensor? W_skip { get; init; }
    public int? K { get; init; }
    /// <summary>Headline numbers shown as a table, e.g. <c>explained_variance</c>, <c>l0</c>, <c>dead_features</c>.</summary>
    public IReadOnlyDictionary<string, double> Summary { get; init; } = new Dictionary<string, double>();
    /// <summary>Per-feature statistics; null to have them computed over the analysis set.</summary>
    public IReadOnlyList<TranscoderFeature>? Features { get; init; }

    public int DIn => (int)W_enc.shape[0];
    public int DSae => (int)W_enc.shape[1];
    public int DOut => (int)W_dec.shape[1];

    /// <summary>Checks names and shapes; one line naming the problem.</summary>
    public void Validate()
    {
        if (!Architectures.Contains(Architecture)) throw new ArgumentException($"transcoder architecture '{Architecture}' is not one of {string.Join(", ", Architectures)}");
        void Shape(Tensor? t, string name, params long[] shape)
        {
            if (t is not null && !t.shape.SequenceEqual(shape))
                throw new ArgumentException($"transcoder {name} is [{string.Join(", ", t.shape)}], expected [{string.Join(", ", shape)}]");
        }
        if (W_enc.dim() != 2 || W_dec.dim() != 2) throw new ArgumentException("transcoder W_enc and W_dec must be matrices");
        Shape(b_enc, "b_enc", DSae);
        Shape(W_dec, "W_dec", DSae, DOut);
        Shape(b_dec, "b_dec", DOut);
        Shape(Threshold, "threshold", DSae);
        Shape(W_skip, "W_skip", DOut, DIn);
        if (Architecture == "jumprelu_transcoder" && Threshold is null) throw new ArgumentException("a jumprelu_transcoder needs its threshold");
        if (Architecture == "skip_transcoder" && W_skip is null) throw new ArgumentException("a skip_transcoder needs W_skip");
        if (Architecture == "topk_transcoder" && (K is not int k || k < 1 || k > DSae)) throw new ArgumentException($"a topk_transcoder needs k in [1, {DSae}]");
    }

    /// <param name="x">[n, d_in]</param>
    /// <returns>feature activations [n, d_sae]</returns>
    public Tensor Encode(Tensor x)
    {
        var pre = matmul(x, W_enc).add_(b_enc, One);
        switch (Architecture)
        {
            case "jumprelu_transcoder":
                return pre.relu() * pre.gt(Threshold!).to(pre.dtype);
            case "topk_transcoder":
            {
                var relu = pre.relu();
                var (values, indices) = relu.topk(K!.Value, dim: -1);
                return zeros_like(relu).scatter(-1, indices, values);
            }
            default:
                return pre.relu();
        }
    }

    /// <param name="features">[n, d_sae]</param>
    /// <param name="x">[n, d_in], the input (for the skip connection)</param>
    /// <returns>[n, d_out]</returns>
    public Tensor Decode(Tensor features, Tensor x)
    {
        var y = matmul(features, W_dec).add_(b_dec, One);
        return W_skip is null ? y : y.add_(matmul(x, W_skip.t()), One);
    }

    /// <summary>The <c>transcoder</c> object of the page's data (contract in docs/report.md).</summary>
    public JsonObject ToJson(StudyReportInputs inputs)
    {
        Validate();
        var features = Features ?? TranscoderFeatureStats.Compute(this, inputs);
        var weights = new JsonObject
        {
            ["W_enc"] = TensorJson.Float32(W_enc), ["b_enc"] = TensorJson.Float32(b_enc),
            ["W_dec"] = TensorJson.Float32(W_dec), ["b_dec"] = TensorJson.Float32(b_dec),
        };
        if (Threshold is not null) weights["threshold"] = TensorJson.Float32(Threshold);
        if (W_skip is not null) weights["W_skip"] = TensorJson.Float32(W_skip);
        var summary = new JsonObject();
        foreach (var (name, value) in Summary) summary[name] = double.IsFinite(value) ? value : null;
        return new JsonObject
        {
            ["architecture"] = Architecture, ["hook_in"] = HookIn, ["hook_out"] = HookOut,
            ["d_in"] = DIn, ["d_sae"] = DSae, ["d_out"] = DOut, ["k"] = K,
            ["weights"] = weights,
            ["summary"] = summary,
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
