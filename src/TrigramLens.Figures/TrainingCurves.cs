using ScottPlot;

namespace TrigramLens.Figures;

/// <summary>A series of a training curve: its name, and one value per epoch (NaN where it was not measured).</summary>
public sealed record CurveSeries(string Name, IReadOnlyList<double> Values);

/// <summary>
/// Training curves as one PNG: loss-like series on the left axis, and (optionally) fraction-like series on the right
/// axis from 0 to 1, against the epoch (1-based, as progress bars count).
/// </summary>
public static class TrainingCurves
{
    public static void SavePng(string path, string title, IReadOnlyList<CurveSeries> left, string leftLabel,
        IReadOnlyList<CurveSeries> right, string rightLabel, int width = 900, int height = 500)
    {
        var plot = new Plot();
        Color[] palette = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen, Colors.Purple];
        int colour = 0;
        foreach (var series in left) Add(series, plot.Axes.Left, LinePattern.Solid);
        foreach (var series in right) Add(series, plot.Axes.Right, LinePattern.Dashed);

        plot.Title(title);
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.Left.Label.Text = leftLabel;
        if (right.Count > 0)
        {
            plot.Axes.Right.Label.Text = rightLabel;
            plot.Axes.SetLimitsY(0, 1.02, plot.Axes.Right);
        }
        plot.ShowLegend(Alignment.MiddleRight);   // falling losses and rising fractions leave the right middle free
        Figure.Save(plot, path, width, height);

        void Add(CurveSeries series, IYAxis axis, LinePattern pattern)
        {
            double[] xs = Enumerable.Range(1, series.Values.Count).Select(i => (double)i).ToArray();
            var line = plot.Add.ScatterLine(xs, series.Values.ToArray(), palette[colour++ % palette.Length]);
            line.LegendText = series.Name;
            line.LinePattern = pattern;
            line.LineWidth = 2;
            // A line needs two points: with few epochs each one is a marker too (one epoch would draw nothing).
            line.MarkerSize = series.Values.Count <= 30 ? 7 : 0;
            line.Axes.YAxis = axis;
        }
    }
}
