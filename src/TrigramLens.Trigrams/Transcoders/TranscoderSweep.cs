using System.Globalization;
using System.Text;
using TrigramLens.Figures;
using TrigramLens.IO;
using TrigramLens.Model;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>One run of a sweep: its options and headline numbers.</summary>
public sealed record TranscoderSweepRun(string Name, TranscoderTrainingOptions Options, double Fvu, double L0, int Dead, int Dense,
    int SplicedCorrect, int Trigrams, int TrigramsOwned, int DedicatedFeatures, double RecoveredVsMeanAblation, double WallSeconds,
    double PositionsPerSecond);

/// <summary>
/// Trains and analyses one transcoder per option set (e.g. widths × k) and writes the table (<c>sweep.jsonl</c>,
/// <c>sweep.md</c>), each run's SAELens folder (<c>runs/NAME/</c>) and the frontiers: L0 against FVU, L0 against spliced
/// accuracy, width against trigrams owned, one point per run.
/// </summary>
public static class TranscoderSweep
{
    public static IReadOnlyList<TranscoderSweepRun> Run(HookedTransformer model, TrigramDataset analysisSet, IReadOnlyList<TranscoderTrainingOptions> grid,
        string directory, int threads = 2, Action<string>? log = null, IProgress<TranscoderProgress>? progress = null, CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(directory);
        var runs = new List<TranscoderSweepRun>();
        var lines = new StringBuilder();
        foreach (var options in grid)
        {
            cancellation.ThrowIfCancellationRequested();
            string name = Name(options);
            log?.Invoke($"run {runs.Count + 1}/{grid.Count}: {name}");
            var result = TrigramTranscoderTraining.Train(model, analysisSet.Trigrams, options, threads, null, progress, cancellation);
            using var transcoder = result.Transcoder;
            if (!result.Completed) throw new OperationCanceledException("the sweep was stopped");
            var a = TrigramTranscoderAnalysis.Run(model, transcoder, analysisSet);
            TranscoderFile.Save(transcoder, Path.Combine(directory, "runs", name));
            var run = new TranscoderSweepRun(name, options, a.Reconstruction.Fvu, a.Reconstruction.L0, a.Reconstruction.Dead, a.Reconstruction.Dense,
                a.Spliced.Spliced.Correct, a.Spliced.Spliced.Total, a.Dedicated.TrigramsOwned, a.Dedicated.DedicatedUnits,
                a.Spliced.Loss.RecoveredVsMeanAblation, result.WallSeconds, result.PositionsPerSecond);
            runs.Add(run);
            lines.Append(System.Text.Json.JsonSerializer.Serialize(run, new System.Text.Json.JsonSerializerOptions(TranscoderJson.Options) { WriteIndented = false })).Append('\n');
            AtomicFile.WriteAllText(Path.Combine(directory, "sweep.jsonl"), lines.ToString());   // kept current, run by run
            log?.Invoke($"  {run.TrigramsOwned}/{run.Trigrams} trigrams owned, spliced {run.SplicedCorrect}/{run.Trigrams}, FVU {run.Fvu:F4}, L0 {run.L0:F2}, {run.WallSeconds:F1} s");
        }
        AtomicFile.WriteAllText(Path.Combine(directory, "sweep.md"), Table(runs));
        var batch = new FigureBatch();
        foreach (var (figure, file) in Frontiers(runs)) batch.Add(figure, Path.Combine(directory, file), 900, 600);
        batch.RenderAll();
        return runs;
    }

    /// <summary>E.g. <c>topk-w1024-k2</c>, <c>relu-skip-w512-l1_0.3</c>.</summary>
    public static string Name(TranscoderTrainingOptions o) =>
        o.Activation switch
        {
            TranscoderActivation.TopK => "topk",
            TranscoderActivation.Relu => "relu",
            _ => "jumprelu",
        } + (o.Skip ? "-skip" : "") + $"-w{o.Width}" + o.Activation switch
        {
            TranscoderActivation.TopK => $"-k{o.K}",
            TranscoderActivation.Relu => "-l1_" + o.L1.ToString("G4", CultureInfo.InvariantCulture),
            _ => "-l0_" + o.L0.ToString("G4", CultureInfo.InvariantCulture),
        };

    public static string Table(IReadOnlyList<TranscoderSweepRun> runs)
    {
        var t = new StringBuilder("| run | width | trigrams owned | dedicated features | spliced accuracy | FVU | L0 | dead | dense | loss recovered (mean abl.) | train s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var r in runs)
            t.Append(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Options.Width} | {r.TrigramsOwned}/{r.Trigrams} | {r.DedicatedFeatures} | {r.SplicedCorrect}/{r.Trigrams} | {r.Fvu:F4} | {r.L0:F2} | {r.Dead} | {r.Dense} | {r.RecoveredVsMeanAblation:P2} | {r.WallSeconds:F1} |\n");
        return t.ToString();
    }

    /// <summary>The three frontier figures, one series per architecture, each point labelled with its run.</summary>
    public static IReadOnlyList<(IFigure Figure, string File)> Frontiers(IReadOnlyList<TranscoderSweepRun> runs)
    {
        var groups = runs.GroupBy(r => Name(r.Options).Split("-w")[0]).ToList();
        ScatterFigure Scatter(string title, string x, string y, Func<TranscoderSweepRun, double> fx, Func<TranscoderSweepRun, double> fy,
            bool counts = false) => new()
        {
            Points = groups.Select(g => new ScatterFigure.Series(g.Key, g.Select(fx).ToList(), g.Select(fy).ToList(),
                g.Select(r => Name(r.Options).Split("-w")[1]).ToList())).ToList(),
            Title = title,
            XLabel = x,
            YLabel = y,
            IntegerY = counts,
        };
        int trigrams = runs.Count > 0 ? runs[0].Trigrams : 0;
        return
        [
            (Scatter("Reconstruction against sparsity", "L0 (active features per position)", "FVU", r => r.L0, r => r.Fvu), "frontier-l0-fvu.png"),
            (Scatter("Spliced trigram accuracy against sparsity", "L0 (active features per position)", "trigrams completed with the transcoder spliced in",
                r => r.L0, r => r.SplicedCorrect, counts: true), "frontier-l0-accuracy.png"),
            (Scatter($"Trigrams (of {trigrams}) that own a dedicated feature, by width", "width (features)", "trigrams owned",
                r => r.Options.Width, r => r.TrigramsOwned, counts: true), "frontier-width-dedicated.png"),
        ];
    }
}
