using System.Globalization;
using System.Net;
using System.Text;
using TrigramLens.IO;
using TrigramLens.Trigrams.Evaluation;
using TrigramLens.Trigrams.Study.Report;
using TrigramLens.Web;

namespace TrigramLens.Trigrams.Study;

/// <summary>
/// <c>report.html</c>: one self-contained page that tells the study in order (study-spec §4: sections 1 to 11, with 9
/// marked "not run" when no transcoder was trained) — figures (PNG files beside it, each opening full size on click),
/// tables, numbers and generated interpretation — and lets the reader work with the model: the model's weights, the
/// analysis set's tokens and our own forward pass are embedded, so the row browser, the live model, the token-pair map
/// and the transcoder dashboard run in the page, from <c>file://</c>, with no server and no network.
/// </summary>
public static class StudyReport
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <param name="inputs">the model, analysis tokens and trigrams (and transcoder) for the interactive parts; null
    /// writes the static report only</param>
    public static void Write(string path, StudyResults r, StudyReportInputs? inputs) => AtomicFile.WriteAllText(path, Render(r, inputs));

    public static string Render(StudyResults r, StudyReportInputs? inputs)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
         .Append("<title>TrigramLens study</title>")
         .Append(HtmlEmbedding.Style(WebAssets.AllStyles() + "\n" + StudyPageAssets.AllStyles()))
         .Append("</head><body>");
        var m = r.Model.Config;
        var a = r.AnalysisDataset;
        h.Append($"<h1>The trigram model, investigated</h1><p class=\"small\">Model: {E(r.Model.Source)} — {m.n_layers} layer, {m.n_heads} head, " +
                 $"d_model {m.d_model}, d_head {m.d_head}, d_mlp {m.d_mlp}, d_vocab {m.d_vocab}, n_ctx {m.n_ctx}, {m.act_fn.ToString().ToLowerInvariant()}. " +
                 $"Analysis set: {a.Size:N0} sequences of {a.SeqLen} tokens from seed {a.Seed}, {a.NTrigrams} planted trigrams, " +
                 $"{a.TrigramPositions:N0} prefix positions (every place a trigram's (a, b) stands adjacent; {r.Attention.InContextCompletions.N:N0} of them " +
                 $"have their completion inside the row). Numbers: <a href=\"results.json\">results.json</a>.</p>");
        h.Append($"<p class=\"note\">{E(StudyNarrative.Headline(r))}</p>");
        Contents(h, r);
        Summary(h, r);
        LiveModel(h, inputs);
        if (r.Model.Training is { } training)
        {
            h.Append($"<section id=\"s0\"><h2>0. Training</h2><p class=\"note\">{E(StudyNarrative.Training(training))}</p>");
            if (training.CurvesFile is string curves) Figures(h, [new FigureInfo(curves, "training", "Training curves")]);
            h.Append("</section>");
        }

        Open(h, 1, "Attention patterns", StudyNarrative.Attention(r.Attention));
        h.Append("<p class=\"small\">Browse every row of the analysis set (slider, number box or ← →); hover the map for the query token, " +
                 "key token and weight, and the predictions there. ✓ marks a query position where the model's top prediction is the next token; " +
                 "orange bands cover both positions of every trigram prefix.</p><div id=\"row-browser\" class=\"interactive\"></div>");
        SectionFigures(h, r, "attention");
        h.Append("</section>");
        Open(h, 2, "Positional vs token QK scores", StudyNarrative.Qk(r.Qk));
        SectionFigures(h, r, "qk");
        h.Append("</section>");
        Open(h, 3, "Token-pair map", StudyNarrative.TokenPairs(r.TokenPairMap));
        h.Append($"<p class=\"small\">The whole vocabulary ({r.TokenPairMap.Vocabulary} × {r.TokenPairMap.Vocabulary}), computed in the page: " +
                 "hover a cell for the pair, its attention and whether it is a true prefix (circled); click it to run it live.</p>" +
                 "<div id=\"pair-map\" class=\"interactive\"></div>");
        SectionFigures(h, r, "token_pair_map");
        MissedPairs(h, r.TokenPairMap);
        h.Append("</section>");

        Open(h, 4, "The trigram table, sorted by second element", null);
        h.Append($"<p class=\"small\">All {r.TrigramTable.Count} trigrams; click one to load its prefix [a, b] into the live model.</p>")
         .Append("<div class=\"scroll\"><table class=\"trigram-table\" id=\"trigram-table\"><tr><th>a</th><th>b</th><th>c</th></tr>");
        foreach (var t in r.TrigramTable) h.Append($"<tr data-tokens=\"{t[0]},{t[1]}\"><td>{t[0]}</td><td>{t[1]}</td><td>{t[2]}</td></tr>");
        h.Append("</table></div></section>");

        Open(h, 5, "Prediction distributions", StudyNarrative.Predictions(r.PredictionDistributions, m.d_vocab));
        h.Append("<p class=\"small\">Load a plotted prefix into the live model: ")
         .Append(string.Join(" ", r.PredictionDistributions.Select(p => $"<button class=\"load\" data-tokens=\"{string.Join(",", p.Prefix)}\">{string.Join(",", p.Prefix)}</button>")))
         .Append("</p>");
        SectionFigures(h, r, "prediction_distributions");
        h.Append("</section>");

        Open(h, 6, "The simplified model", StudyNarrative.Simplified(r.SimplifiedModel));
        h.Append($"<p class=\"small\">Its {r.SimplifiedModel.Misses.Count} misses (of {r.SimplifiedModel.Accuracy.Total} trigrams); click a row to run its prefix live.</p>")
         .Append("<div class=\"scroll\"><table class=\"trigram-table\"><tr><th>a</th><th>b</th><th>c</th><th>simplified predicts</th><th>full model predicts</th><th>attention to previous</th><th>attention to current</th></tr>");
        foreach (var x in r.SimplifiedModel.Misses)
            h.Append($"<tr data-tokens=\"{x.A},{x.B}\"><td>{x.A}</td><td>{x.B}</td><td>{x.C}</td><td>{x.Predicted}</td><td>{x.FullModelPredicted}</td><td>{x.AttentionToPrevious.ToString("F3", C)}</td><td>{x.AttentionToCurrent.ToString("F3", C)}</td></tr>");
        h.Append("</table></div></section>");

        Open(h, 7, "Direct logit attribution of the attention path", StudyNarrative.DirectLogits(r.DirectLogitAttribution, r.Metrics.TrigramAccuracy));
        h.Append("<p class=\"small\">In the live model, set the MLP to “mean” to see this ablation on any sequence.</p></section>");
        Open(h, 8, "MLP Jacobians", StudyNarrative.Jacobians(r.MlpJacobian, r.DirectLogitAttribution));
        SectionFigures(h, r, "mlp_jacobian");
        h.Append("</section>");
        Transcoder(h, r, inputs);
        // Two subspaces of dimensions p and q in d dimensions share at least p + q − d directions.
        int forced = Math.Max(0, Math.Min(m.d_head, m.d_model) + Math.Min(m.d_mlp, m.d_model) - m.d_model);
        Open(h, 10, "Principal angles", StudyNarrative.Angles(r.PrincipalAngles, forced));
        SectionFigures(h, r, "principal_angles");
        h.Append("<p class=\"small\">cos θ: ").Append(string.Join(", ", r.PrincipalAngles.Cosines.Select(c => c.ToString("F4", C)))).Append("</p></section>");
        Open(h, 11, "Residual variance", StudyNarrative.Variance(r.ResidualVariance));
        SectionFigures(h, r, "residual_variance");
        h.Append("</section>");

        h.Append("<p class=\"small\">Stage times (s): ")
         .Append(E(string.Join(", ", r.StageSeconds.Select(kv => $"{kv.Key} {kv.Value.ToString("F2", C)}")))).Append("</p>");
        h.Append("<div id=\"lightbox\" hidden><img alt=\"\"><p class=\"small\">Full size — click or press Esc to close.</p></div>");
        if (inputs is not null) h.Append(HtmlEmbedding.JsonScript("trigramlens-data", StudyPageData.Build(r, inputs)));
        h.Append(HtmlEmbedding.Script(WebAssets.AllScripts() + "\n" + StudyPageAssets.AllScripts()));
        h.Append("</body></html>");
        return h.ToString();
    }

    static readonly (int number, string title)[] Sections =
    [
        (1, "Attention patterns"), (2, "Positional vs token QK"), (3, "Token-pair map"), (4, "Trigram table"), (5, "Prediction distributions"),
        (6, "Simplified model"), (7, "Direct logit attribution"), (8, "MLP Jacobians"), (9, "Sparse transcoder"), (10, "Principal angles"),
        (11, "Residual variance"),
    ];

    static void Contents(StringBuilder h, StudyResults r)
    {
        h.Append("<nav class=\"toc\"><a href=\"#live\">The model, live</a>");
        if (r.Model.Training is not null) h.Append(" · <a href=\"#s0\">0. Training</a>");
        foreach (var (n, title) in Sections) h.Append($" · <a href=\"#s{n}\">{n}. {E(title)}</a>");
        h.Append("</nav>");
    }

    static void Open(StringBuilder h, int number, string title, string? narrative)
    {
        h.Append($"<section id=\"s{number}\"><h2>{number}. {E(title)}</h2>");
        if (narrative is not null) h.Append($"<p class=\"note\">{E(narrative)}</p>");
    }

    static void Summary(StringBuilder h, StudyResults r)
    {
        int n = r.Metrics.TrigramAccuracy.Total;
        h.Append($"<table><tr><th>predictor</th><th>trigrams completed (of the {n} planted)</th><th>fraction</th></tr>");
        Row(h, "full model", r.Metrics.TrigramAccuracy);
        Row(h, "simplified model", r.SimplifiedModel.Accuracy);
        Row(h, "resid_mid unembedded (no MLP)", r.DirectLogitAttribution.ResidMid);
        Row(h, "resid_mid + mean MLP output", r.DirectLogitAttribution.ResidMidWithMeanAblatedMlp);
        Row(h, "linearised MLP (median Jacobian)", r.MlpJacobian.LinearisedAccuracy);
        if (r.Transcoder is { } t) Row(h, "MLP replaced by the sparse transcoder", t.Spliced.Spliced);
        h.Append("</table>");
    }

    static void Row(StringBuilder h, string name, TrigramAccuracy a) =>
        h.Append($"<tr><th style=\"text-align:left\">{E(name)}</th><td>{a.Correct} / {a.Total}</td><td>{a.Fraction.ToString("P1", C)}</td></tr>");

    static void LiveModel(StringBuilder h, StudyReportInputs? inputs)
    {
        h.Append("<section id=\"live\" class=\"live\"><h2>The model, live</h2>");
        if (inputs is null)
            h.Append("<p class=\"note\">This report was written without the model's data, so nothing runs in the page.</p>");
        else
            h.Append("<p class=\"small\">Type or edit any token sequence (comma- or space-separated ids). The model runs in this page — our own " +
                     "forward pass of its embedded weights — so attention, predictions and the residual stream update as you type. Ablate the head, " +
                     "the MLP or single MLP neurons (zero, or their mean over the analysis set) and watch the predictions change. From the console: " +
                     "<code>trigramlens.forward([1, 74, 72])</code>.</p><div id=\"live-model\" class=\"interactive\"></div>");
        h.Append("<noscript><p class=\"note\">The interactive parts need JavaScript; everything else reads without it.</p></noscript></section>");
    }

    static void Transcoder(StringBuilder h, StudyResults r, StudyReportInputs? inputs)
    {
        if (r.Transcoder is null && inputs?.Transcoder is null)
        {
            h.Append("<section id=\"s9\"><h2>9. Sparse transcoder</h2><p class=\"note not-run\">Not run: this study has no transcoder results.</p></section>");
            return;
        }
        if (r.Transcoder is not { } t)
        {
            // A transcoder handed to the report directly (StudyReportInputs) without the section's numbers: the dashboard only.
            Open(h, 9, "Sparse transcoder", null);
            Dashboard(h, inputs!.Transcoder!);
            h.Append("</section>");
            return;
        }
        Open(h, 9, "Sparse transcoder", StudyNarrative.Transcoder(t));
        var d = t.Dedicated;
        h.Append("<table><tr><th></th><th>value</th></tr>")
         .Append($"<tr><th style=\"text-align:left\">trigrams with a dedicated feature ({d.Units:N0} features)</th><td>{d.TrigramsOwned} / {d.Trigrams}</td></tr>")
         .Append($"<tr><th style=\"text-align:left\">trigrams with a dedicated MLP neuron ({t.NeuronBaseline.Units} neurons)</th><td>{t.NeuronBaseline.TrigramsOwned} / {t.NeuronBaseline.Trigrams}</td></tr>")
         .Append($"<tr><th style=\"text-align:left\">at most (the MLP's output at the prefix alone has the completion as top logit)</th><td>{d.OwnableAtMost} / {d.Trigrams}</td></tr>")
         .Append($"<tr><th style=\"text-align:left\">trigram accuracy: MLP / transcoder / mean-ablated / zero-ablated</th><td>{t.Spliced.Clean.Correct} / {t.Spliced.Spliced.Correct} / {t.Spliced.MeanAblated.Correct} / {t.Spliced.ZeroAblated.Correct}</td></tr>")
         .Append($"<tr><th style=\"text-align:left\">loss recovered (vs mean / zero ablation)</th><td>{t.Spliced.Loss.RecoveredVsMeanAblation.ToString("P2", C)} / {t.Spliced.Loss.RecoveredVsZeroAblation.ToString("P2", C)}</td></tr>")
         .Append($"<tr><th style=\"text-align:left\">FVU · L0 · dead · dense</th><td>{t.Reconstruction.Fvu.ToString("F4", C)} · {t.Reconstruction.L0.ToString("F2", C)} · {t.Reconstruction.Dead} · {t.Reconstruction.Dense}</td></tr>")
         .Append("</table>");
        if (d.Table.Count > 0)
        {
            h.Append($"<details><summary>{d.Table.Count} dedicated features</summary><div class=\"scroll\"><table class=\"trigram-table\"><tr><th>feature</th><th>a</th><th>b</th><th>c</th><th>mass share</th></tr>");
            foreach (var x in d.Table.OrderBy(x => x.B).ThenBy(x => x.A))
                h.Append($"<tr data-tokens=\"{x.A},{x.B}\"><td>{x.Feature}</td><td>{x.A}</td><td>{x.B}</td><td>{x.C}</td><td>{x.Share.ToString("P1", C)}</td></tr>");
            h.Append("</table></div></details>");
        }
        SectionFigures(h, r, "transcoder");
        if (inputs?.Transcoder is { } live) Dashboard(h, live);
        h.Append("</section>");
    }

    static void Dashboard(StringBuilder h, TranscoderReport live) =>
        h.Append("<p class=\"small\">Every feature (input <code>").Append(E(live.HookIn)).Append("</code>, target <code>").Append(E(live.HookOut))
         .Append("</code>): sort by density or by dedicated trigram; open one for its dashboard; click a prefix to run it live.</p>")
         .Append("<div id=\"transcoder\" class=\"interactive\"></div>");

    static void SectionFigures(StringBuilder h, StudyResults r, string section) => Figures(h, r.Figures.Where(f => f.Section == section).ToList());

    static void Figures(StringBuilder h, IReadOnlyList<FigureInfo> figures)
    {
        if (figures.Count == 0) return;
        h.Append(figures.Count > 1 ? "<div class=\"grid\">" : "<div>");
        foreach (var f in figures)
            h.Append($"<figure><a class=\"full-size\" href=\"{E(f.File)}\" title=\"open full size\"><img src=\"{E(f.File)}\" alt=\"{E(f.Caption)}\" loading=\"lazy\"></a>" +
                     $"<figcaption class=\"small\">{E(f.Caption)}</figcaption></figure>");
        h.Append("</div>");
    }

    static void MissedPairs(StringBuilder h, TokenPairMapResults t)
    {
        h.Append($"<details><summary>{t.MissedPairs.Count} of the {t.PrefixesAmongRowTop.N} trigram prefixes are below the hot-spot threshold ({t.Threshold.ToString("0.##", C)})</summary>")
         .Append("<div class=\"scroll\"><table class=\"trigram-table\"><tr><th>a</th><th>b</th><th>attention b→a</th><th>b's hottest key</th></tr>");
        foreach (var x in t.MissedPairs)
            h.Append($"<tr data-tokens=\"{x.A},{x.B}\"><td>{x.A}</td><td>{x.B}</td><td>{x.Attention.ToString("F3", C)}</td><td>{x.HottestKey}</td></tr>");
        h.Append("</table></div></details>");
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
