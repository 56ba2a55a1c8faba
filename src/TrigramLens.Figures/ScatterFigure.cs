using ScottPlot;

namespace TrigramLens.Figures;

/// <summary>Points (no lines), one colour per series, each point optionally labelled: e.g. one point per training run.</summary>
public sealed class ScatterFigure : IFigure
{
    public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<string>? Labels = null);

    public required IReadOnlyList<Series> Points { get; init; }
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    /// <summary>Horizontal reference lines, e.g. a target.</summary>
    public IReadOnlyList<(double Y, string Label)> References { get; init; } = [];
    /// <summary>Y holds counts: ticks on whole numbers only.</summary>
    public bool IntegerY { get; init; }

    public Plot Build()
    {
        var plot = new Plot();
        var (xMin, xSpan) = Span(Points.SelectMany(p => p.X));
        var (yMin, ySpan) = Span(Points.SelectMany(p => p.Y));
        foreach (var series in Points)
        {
            if (series.X.Count != series.Y.Count || series.Labels is { } l && l.Count != series.X.Count)
                throw new ArgumentException($"series '{series.Name}': {series.X.Count} x, {series.Y.Count} y, {series.Labels?.Count} labels");
            var scatter = plot.Add.Scatter(series.X.ToArray(), series.Y.ToArray());
            scatter.LineWidth = 0;
            scatter.MarkerSize = 9;
            scatter.LegendText = series.Name;
            // Runs that land on (nearly) the same point share one label instead of printing over each other: a cell of the
            // grid below is about one label high and a few characters wide.
            var labelled = Enumerable.Range(0, series.Labels?.Count ?? 0)
                .GroupBy(i => (Math.Round((series.X[i] - xMin) / xSpan * 40), Math.Round((series.Y[i] - yMin) / ySpan * 30)))
                .Select(g => (X: series.X[g.First()], Y: series.Y[g.First()], Text: string.Join(", ", g.Select(i => series.Labels![i]))));
            foreach (var point in labelled)
            {
                var label = plot.Add.Text(point.Text, point.X, point.Y);
                label.LabelAlignment = Alignment.LowerLeft;
                label.LabelFontSize = 10;
                label.LabelFontColor = scatter.Color;
            }
        }
        foreach (var (y, text) in References)
        {
            var line = plot.Add.HorizontalLine(y, 1, Colors.Gray, LinePattern.Dashed);
            line.LegendText = text;
        }
        if (Points.Count + References.Count > 1) plot.ShowLegend(Alignment.LowerRight);
        // Labels extend right of and above their points: leave room for them inside the frame.
        plot.Axes.Margins(left: 0.05, right: 0.2, bottom: 0.08, top: 0.12);
        if (IntegerY) plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        return plot;
    }

    static (double Min, double Span) Span(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        if (finite.Count == 0) return (0, 1);
        double span = finite.Max() - finite.Min();
        return (finite.Min(), span > 0 ? span : 1);
    }
}
