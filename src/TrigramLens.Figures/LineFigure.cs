using ScottPlot;

namespace TrigramLens.Figures;

/// <summary>One or more named series over a shared x axis, with markers; a legend when there are several.</summary>
public sealed class LineFigure : IFigure
{
    public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

    public required IReadOnlyList<Series> Lines { get; init; }
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public (double Min, double Max)? YRange { get; init; }
    /// <summary>Horizontal reference lines, e.g. a target accuracy.</summary>
    public IReadOnlyList<(double Y, string Label)> References { get; init; } = [];

    public Plot Build()
    {
        var plot = new Plot();
        foreach (var series in Lines)
        {
            var scatter = plot.Add.Scatter(series.X.ToArray(), series.Y.ToArray());
            if (Lines.Count + References.Count > 1) scatter.LegendText = series.Name;
            scatter.MarkerSize = series.X.Count > 60 ? 0 : 5;
            scatter.LineWidth = 2;
        }
        foreach (var (y, label) in References)
        {
            var line = plot.Add.HorizontalLine(y, 1, Colors.Gray, LinePattern.Dashed);
            line.LegendText = label;
            line.LabelText = label;
        }
        if (Lines.Count + References.Count > 1) plot.ShowLegend(Alignment.LowerLeft);
        if (YRange is var (min, max)) plot.Axes.SetLimitsY(min, max);
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        return plot;
    }
}
