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

    public Plot Build()
    {
        var plot = new Plot();
        foreach (var series in Points)
        {
            if (series.X.Count != series.Y.Count || series.Labels is { } l && l.Count != series.X.Count)
                throw new ArgumentException($"series '{series.Name}': {series.X.Count} x, {series.Y.Count} y, {series.Labels?.Count} labels");
            var scatter = plot.Add.Scatter(series.X.ToArray(), series.Y.ToArray());
            scatter.LineWidth = 0;
            scatter.MarkerSize = 9;
            scatter.LegendText = series.Name;
            for (int i = 0; i < (series.Labels?.Count ?? 0); i++)
            {
                var label = plot.Add.Text(series.Labels![i], series.X[i], series.Y[i]);
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
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        return plot;
    }
}
