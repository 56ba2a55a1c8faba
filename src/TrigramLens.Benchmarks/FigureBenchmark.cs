using System.Diagnostics;
using ScottPlot;
using TrigramLens.Figures;

namespace TrigramLens.Benchmarks;

/// <param name="ScottPlotMs">milliseconds per figure with ScottPlot's own PNG export, by round</param>
/// <param name="OursMs">milliseconds per figure with <see cref="Figure.Png"/>, by round</param>
public sealed record FigureBenchmarkReport(int Width, int Height, int FiguresPerRound, IReadOnlyList<double> ScottPlotMs, IReadOnlyList<double> OursMs,
    int ScottPlotBytes, int OursBytes)
{
    public double MedianScottPlotMs => ThroughputSample.MedianOf(ScottPlotMs);
    public double MedianOursMs => ThroughputSample.MedianOf(OursMs);
    /// <summary>How many times faster our export is (ratio of the medians).</summary>
    public double Speedup => MedianScottPlotMs / MedianOursMs;
}

/// <summary>
/// Figure export in one process: ScottPlot's PNG export against <see cref="Figure.Png"/>, alternating round by round,
/// on the kind of figure a study draws most (an attention pattern: a 50 × 50 heat map with tick labels, row bands,
/// ticks and a legend, 900 × 860 pixels, as <c>study --rows N</c> draws 2 N of them).
/// </summary>
public static class FigureBenchmark
{
    public const int Width = 900, Height = 860;

    public static FigureBenchmarkReport Run(int rounds, int figuresPerRound, IProgress<string>? progress = null)
    {
        var figure = AttentionLike();
        int theirBytes = 0, ourBytes = 0;
        for (int warm = 0; warm < 3; warm++) Export(figure, ours: false, ref theirBytes);   // JIT, fonts, Skia's caches
        var scottPlot = new List<double>();
        var ours = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            scottPlot.Add(Time(figure, figuresPerRound, ours: false, ref theirBytes));
            ours.Add(Time(figure, figuresPerRound, ours: true, ref ourBytes));
            progress?.Report($"round {round + 1}: ScottPlot's export {scottPlot[^1]:F1} ms, ours {ours[^1]:F1} ms per figure");
        }
        return new FigureBenchmarkReport(Width, Height, figuresPerRound, scottPlot, ours, theirBytes, ourBytes);
    }

    static double Time(HeatmapFigure figure, int count, bool ours, ref int bytes)
    {
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++) Export(figure, ours, ref bytes);
        return watch.Elapsed.TotalMilliseconds / count;
    }

    static void Export(HeatmapFigure figure, bool ours, ref int bytes)
    {
        using var plot = figure.Build();
        bytes = (ours ? Figure.Png(plot, Width, Height) : plot.GetImageBytes(Width, Height, ImageFormat.Png)).Length;
    }

    /// <summary>A causal attention pattern with random weights, token labels, two prefix bands and a tick on every third row.</summary>
    internal static HeatmapFigure AttentionLike()
    {
        var random = new Random(1);
        const int n = 50;
        var values = new double[n, n];
        for (int q = 0; q < n; q++)
            for (int k = 0; k < n; k++)
                values[q, k] = k <= q ? random.NextDouble() : double.NaN;
        var tokens = Enumerable.Range(0, n).Select(_ => random.Next(75).ToString()).ToArray();
        return new HeatmapFigure
        {
            Values = values, Title = "Attention pattern", XLabel = "key token", YLabel = "query position:token", ColorBarLabel = "attention",
            Range = (0, 1), XTickLabels = tokens, YTickLabels = tokens.Select((t, i) => $"{i}:{t}").ToArray(),
            RowBands = [(3, 4), (20, 21)], RowBandLabel = "trigram prefix (both positions)",
            CheckedRows = Enumerable.Range(0, n).Where(q => q % 3 == 0).ToList(), CheckLabel = "next token predicted correctly",
        };
    }
}
