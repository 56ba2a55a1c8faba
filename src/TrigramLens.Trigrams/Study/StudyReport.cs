using System.Globalization;
using System.Net;
using System.Text;
using TrigramLens.IO;
using TrigramLens.Trigrams.Evaluation;

namespace TrigramLens.Trigrams.Study;

/// <summary>
/// <c>report.html</c>: one self-contained page that tells the study in order — figures (from the same folder),
/// tables, numbers and generated interpretation — readable offline.
/// </summary>
public static class StudyReport
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void Write(string path, StudyResults r) => AtomicFile.WriteAllText(path, Render(r));

    public static string Render(StudyResults r)
    {
        var h = new StringBuilder();
        h.Append("""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>TrigramLens study</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
            h1{margin-bottom:0} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
            img{max-width:100%;border:1px solid #eee;margin:.5em 0} .grid{display:grid;grid-template-columns:1fr 1fr;gap:.5em}
            table{border-collapse:collapse;margin:.5em 0;font-size:.9em} td,th{border:1px solid #ddd;padding:.2em .5em;text-align:right}
            th{background:#f4f4f4} .note{background:#f6f8ff;border-left:4px solid #6b8cff;padding:.5em 1em} .small{font-size:.85em;color:#555}
            details{margin:.5em 0} .scroll{max-height:24em;overflow:auto;display:inline-block}
            </style></head><body>
            """);
        var m = r.Model.Config;
        h.Append($"<h1>The trigram model, investigated</h1><p class=\"small\">Model: {E(r.Model.Source)} — {m.n_layers} layer, {m.n_heads} head, " +
                 $"d_model {m.d_model}, d_head {m.d_head}, d_mlp {m.d_mlp}, d_vocab {m.d_vocab}, n_ctx {m.n_ctx}, {m.act_fn.ToString().ToLowerInvariant()}. " +
                 $"Analysis set: {r.AnalysisDataset.Size} sequences from seed {r.AnalysisDataset.Seed}, {r.AnalysisDataset.NTrigrams} trigrams, " +
                 $"{r.AnalysisDataset.TrigramPositions} prefix positions. Numbers: <a href=\"results.json\">results.json</a>.</p>");
        h.Append($"<p class=\"note\">{E(StudyNarrative.Headline(r))}</p>");
        Summary(h, r);
        if (r.Model.Training is { } training)
        {
            h.Append($"<h2>0. Training</h2><p class=\"note\">{E(StudyNarrative.Training(training))}</p>");
            if (training.CurvesFile is string curves) h.Append($"<figure><a href=\"{E(curves)}\"><img src=\"{E(curves)}\" alt=\"training curves\"></a></figure>");
        }

        Section(h, "1. Attention patterns", StudyNarrative.Attention(r.Attention), r, "attention");
        Section(h, "2. Positional vs token QK scores", StudyNarrative.Qk(r.Qk), r, "qk");
        Section(h, "3. Token-pair map", StudyNarrative.TokenPairs(r.TokenPairMap), r, "token_pair_map");
        MissedPairs(h, r.TokenPairMap);

        h.Append("<h2>4. The trigram table, sorted by second element</h2><details><summary>All ")
         .Append(r.TrigramTable.Count).Append(" trigrams</summary><div class=\"scroll\"><table><tr><th>a</th><th>b</th><th>c</th></tr>");
        foreach (var t in r.TrigramTable) h.Append($"<tr><td>{t[0]}</td><td>{t[1]}</td><td>{t[2]}</td></tr>");
        h.Append("</table></div></details>");

        Section(h, "5. Prediction distributions", StudyNarrative.Predictions(r.PredictionDistributions, m.d_vocab), r, "prediction_distributions");

        h.Append("<h2>6. The simplified model</h2>").Append($"<p class=\"note\">{E(StudyNarrative.Simplified(r.SimplifiedModel))}</p>");
        h.Append("<table><tr><th>a</th><th>b</th><th>c</th><th>simplified predicts</th><th>full model predicts</th><th>attention to previous</th><th>attention to current</th></tr>");
        foreach (var x in r.SimplifiedModel.Misses)
            h.Append($"<tr><td>{x.A}</td><td>{x.B}</td><td>{x.C}</td><td>{x.Predicted}</td><td>{x.FullModelPredicted}</td><td>{x.AttentionToPrevious.ToString("F3", C)}</td><td>{x.AttentionToCurrent.ToString("F3", C)}</td></tr>");
        h.Append("</table>");

        h.Append("<h2>7. Direct logit attribution of the attention path</h2>")
         .Append($"<p class=\"note\">{E(StudyNarrative.DirectLogits(r.DirectLogitAttribution, r.Metrics.TrigramAccuracy))}</p>");
        Section(h, "8. MLP Jacobians", StudyNarrative.Jacobians(r.MlpJacobian, r.DirectLogitAttribution), r, "mlp_jacobian");
        // Two subspaces of dimensions p and q in d dimensions share at least p + q − d directions.
        int forced = Math.Max(0, Math.Min(m.d_head, m.d_model) + Math.Min(m.d_mlp, m.d_model) - m.d_model);
        Section(h, "10. Principal angles", StudyNarrative.Angles(r.PrincipalAngles, forced), r, "principal_angles");
        h.Append("<p class=\"small\">cos θ: ").Append(string.Join(", ", r.PrincipalAngles.Cosines.Select(c => c.ToString("F4", C)))).Append("</p>");
        Section(h, "11. Residual variance", StudyNarrative.Variance(r.ResidualVariance), r, "residual_variance");

        h.Append("<p class=\"small\">Stage times (s): ")
         .Append(E(string.Join(", ", r.StageSeconds.Select(kv => $"{kv.Key} {kv.Value.ToString("F2", C)}")))).Append("</p></body></html>");
        return h.ToString();
    }

    static void Summary(StringBuilder h, StudyResults r)
    {
        h.Append("<table><tr><th>predictor</th><th>trigrams completed</th><th>fraction</th></tr>");
        Row(h, "full model", r.Metrics.TrigramAccuracy);
        Row(h, "simplified model", r.SimplifiedModel.Accuracy);
        Row(h, "resid_mid unembedded (no MLP)", r.DirectLogitAttribution.ResidMid);
        Row(h, "resid_mid + mean MLP output", r.DirectLogitAttribution.ResidMidWithMeanAblatedMlp);
        Row(h, "linearised MLP (median Jacobian)", r.MlpJacobian.LinearisedAccuracy);
        h.Append("</table>");
    }

    static void Row(StringBuilder h, string name, TrigramAccuracy a) =>
        h.Append($"<tr><th style=\"text-align:left\">{E(name)}</th><td>{a.Correct} / {a.Total}</td><td>{a.Fraction.ToString("P1", C)}</td></tr>");

    static void Section(StringBuilder h, string title, string narrative, StudyResults r, string section)
    {
        h.Append($"<h2>{E(title)}</h2><p class=\"note\">{E(narrative)}</p>");
        var figures = r.Figures.Where(f => f.Section == section).ToList();
        if (figures.Count == 0) return;
        h.Append(figures.Count > 1 ? "<div class=\"grid\">" : "<div>");
        foreach (var f in figures)
            h.Append($"<figure><a href=\"{E(f.File)}\"><img src=\"{E(f.File)}\" alt=\"{E(f.Caption)}\"></a><figcaption class=\"small\">{E(f.Caption)}</figcaption></figure>");
        h.Append("</div>");
    }

    static void MissedPairs(StringBuilder h, TokenPairMapResults t)
    {
        h.Append($"<details><summary>{t.MissedPairs.Count} trigram prefixes below the hot-spot threshold</summary><div class=\"scroll\"><table>")
         .Append("<tr><th>a</th><th>b</th><th>attention b→a</th><th>b's hottest key</th></tr>");
        foreach (var x in t.MissedPairs) h.Append($"<tr><td>{x.A}</td><td>{x.B}</td><td>{x.Attention.ToString("F3", C)}</td><td>{x.HottestKey}</td></tr>");
        h.Append("</table></div></details>");
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
