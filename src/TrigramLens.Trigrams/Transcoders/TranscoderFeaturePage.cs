using System.Globalization;
using System.Net;
using System.Text;
using TrigramLens.IO;
using TrigramLens.Trigrams.Evaluation;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>
/// <c>features.html</c>: one self-contained page (figures from the same folder) with the headline, the reconstruction and
/// splicing numbers, and a card per live feature — where its mass lies by (previous, current) token pair, its logit
/// effect, de-embedding and attention pull-back — then the MLP's neurons the same way.
/// </summary>
public static class TranscoderFeaturePage
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void Write(string path, string model, TranscoderAnalysis a, IReadOnlyList<(string File, string Caption)> figures) =>
        AtomicFile.WriteAllText(path, Render(model, a, figures));

    public static string Render(string model, TranscoderAnalysis a, IReadOnlyList<(string File, string Caption)> figures)
    {
        var h = new StringBuilder();
        h.Append("""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>TrigramLens transcoder features</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
            h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em} img{max-width:100%;border:1px solid #eee}
            .grid{display:grid;grid-template-columns:1fr 1fr;gap:.5em} table{border-collapse:collapse;font-size:.88em;margin:.5em 0}
            td,th{border:1px solid #ddd;padding:.15em .45em;text-align:right;vertical-align:top} th{background:#f4f4f4}
            td.l{text-align:left} .note{background:#f6f8ff;border-left:4px solid #6b8cff;padding:.5em 1em} .small{font-size:.85em;color:#555}
            .ded{background:#eefbea} .scroll{max-height:40em;overflow:auto}
            </style></head><body>
            """);
        var t = a.Transcoder;
        h.Append($"<h1>Transcoder features</h1><p class=\"small\">Model: {E(model)}. Transcoder: {E(t.Architecture)}, d_sae {t.DSae}{(t.K is int k ? $", k {k}" : "")}, " +
                 $"{E(t.HookName)} → {E(t.HookNameOut)}. Analysis set: {a.AnalysisSet.Rows:N0} sequences from seed {a.AnalysisSet.Seed}, " +
                 $"{a.AnalysisSet.Positions:N0} positions. Numbers: <a href=\"metrics.json\">metrics.json</a>, <a href=\"features.json\">features.json</a>.</p>");
        h.Append($"<p class=\"note\">{E(Headline(a))}</p>");

        var r = a.Reconstruction;
        h.Append("<table><tr><th>FVU</th><th>explained variance</th><th>L0</th><th>live</th><th>dead</th><th>dense (&gt; 10 %)</th></tr>")
         .Append($"<tr><td>{r.Fvu.ToString("F4", C)}</td><td>{r.ExplainedVariance.ToString("P2", C)}</td><td>{r.L0.ToString("F3", C)}</td><td>{r.Live}</td><td>{r.Dead}</td><td>{r.Dense}</td></tr></table>");
        var s = a.Spliced;
        h.Append("<table><tr><th class=\"l\">hook_mlp_out</th><th>trigram accuracy</th><th>loss</th></tr>");
        Row(h, "clean (the MLP)", s.Clean, s.Loss.Clean);
        Row(h, "transcoder spliced in", s.Spliced, s.Loss.Spliced);
        Row(h, "mean-ablated", s.MeanAblated, s.Loss.MeanAblated);
        Row(h, "zero-ablated", s.ZeroAblated, s.Loss.ZeroAblated);
        h.Append($"</table><p class=\"small\">Loss recovered: {s.Loss.RecoveredVsMeanAblation.ToString("P2", C)} against mean ablation, " +
                 $"{s.Loss.RecoveredVsZeroAblation.ToString("P2", C)} against zero ablation.</p>");

        if (figures.Count > 0)
        {
            h.Append("<h2>Figures</h2><div class=\"grid\">");
            foreach (var (file, caption) in figures)
                h.Append($"<figure><a href=\"{E(file)}\"><img src=\"{E(file)}\" alt=\"{E(caption)}\"></a><figcaption class=\"small\">{E(caption)}</figcaption></figure>");
            h.Append("</div>");
        }

        h.Append($"<h2>Features ({a.Features.Count} live)</h2><p class=\"small\">Dedicated features first (green), by trigram; then the rest by activation mass. " +
                 "Pairs are (previous, current) tokens with their share of the feature's mass, → the completion where the pair is a trigram prefix. " +
                 "Logit effect: W_dec[f]·W_U; de-embedding: W_E·W_enc[:, f] (current token); pull-back: W_E·W_V W_O·W_enc[:, f] (attended token).</p>");
        Table(h, a.Features.OrderBy(f => f.DedicatedTo is null).ThenBy(f => f.DedicatedTo?.B).ThenBy(f => f.DedicatedTo?.A).ThenByDescending(f => f.Mass));
        h.Append($"<h2>The MLP's {a.Neurons.Count} neurons, the same way (baseline: {a.NeuronBaseline.TrigramsOwned} trigrams own a dedicated neuron)</h2>");
        Table(h, a.Neurons);
        h.Append("</body></html>");
        return h.ToString();
    }

    public static string Headline(TranscoderAnalysis a) =>
        $"{a.Dedicated.TrigramsOwned} of {a.Dedicated.Trigrams} trigrams own a dedicated feature ({a.Dedicated.DedicatedUnits} dedicated features: " +
        $"≥ {a.Dedicated.ShareThreshold.ToString("P0", C)} of the feature's activation mass on the trigram's prefix and its top logit effect the completion); " +
        $"the MLP's own {a.NeuronBaseline.Units} neurons own {a.NeuronBaseline.TrigramsOwned}; at most {a.Dedicated.OwnableAtMost} could, those where the MLP's " +
        $"output at the prefix points at the completion on its own. With the transcoder in place of the MLP the model completes " +
        $"{a.Spliced.Spliced.Correct} / {a.Spliced.Spliced.Total} trigrams (the MLP itself: {a.Spliced.Clean.Correct}).";

    static void Row(StringBuilder h, string name, TrigramAccuracy accuracy, double loss) =>
        h.Append($"<tr><td class=\"l\">{E(name)}</td><td>{accuracy.Correct} / {accuracy.Total}</td><td>{loss.ToString("F4", C)}</td></tr>");

    static void Table(StringBuilder h, IEnumerable<FeatureSummary> units)
    {
        h.Append("<div class=\"scroll\"><table><tr><th>#</th><th>density</th><th>dedicated to</th><th class=\"l\">top (previous, current) pairs: share</th>" +
                 "<th class=\"l\">logit effect: top</th><th class=\"l\">bottom</th><th class=\"l\">de-embedding</th><th class=\"l\">pull-back</th></tr>");
        foreach (var f in units)
        {
            string dedicated = f.DedicatedTo is { } d ? $"{d.A},{d.B}→{d.C}" : "";
            h.Append($"<tr{(f.DedicatedTo is null ? "" : " class=\"ded\"")}><td>{f.Index}</td><td>{f.Density.ToString("0.00e0", C)}</td><td>{dedicated}</td><td class=\"l\">")
             .Append(E(string.Join("  ", f.TopPairs.Select(p => $"({(p.Previous < 0 ? "—" : p.Previous)},{p.Current}{(p.Completion is int c ? "→" + c : "")}): {p.Share.ToString("F2", C)}"))))
             .Append($"</td><td class=\"l\">{Tokens(f.LogitTop)}</td><td class=\"l\">{Tokens(f.LogitBottom)}</td><td class=\"l\">{Tokens(f.DeEmbedding)}</td><td class=\"l\">{Tokens(f.PullBack)}</td></tr>");
        }
        h.Append("</table></div>");
    }

    static string Tokens(IReadOnlyList<TokenScore> tokens) => E(string.Join("  ", tokens.Select(t => $"{t.Token}: {t.Value.ToString("F2", C)}")));

    static string E(string s) => WebUtility.HtmlEncode(s);
}
