using ScottPlot;

namespace TrigramLens.Figures;

/// <summary>Counts over contiguous bins (bars spanning each bin), e.g. a log10 feature-density histogram, with an optional note.</summary>
public sealed class HistogramFigure : IFigure
{
    /// <summary>n + 1 increasing bin edges.</summary>
    public required IReadOnlyList<double> Edges { get; init; }
    /// <summary>n counts, one per bin.</summary>
    public required IReadOnlyList<double> Counts { get; init; }
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    /// <summary>A line of text in the upper left corner (e.g. what the bins leave out).</summary>
    public string Note { get; init; } = "";

    public Plot Build()
    {
        if (Edges.Count != Counts.Count + 1) throw new ArgumentException($"{Edges.Count} edges for {Counts.Count} bins");
        var plot = new Plot();
        var bars = Counts.Select((c, i) => new Bar
        {
            Position = (Edges[i] + Edges[i + 1]) / 2,
            Value = c,
            Size = Edges[i + 1] - Edges[i],
            FillColor = Colors.SteelBlue,
            LineColor = Colors.White,
            LineWidth = 1,
        }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Margins(bottom: 0);
        if (Note != "")
        {
            var note = plot.Add.Annotation(Note, Alignment.UpperLeft);
            note.LabelFontSize = 12;
        }
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        return plot;
    }
}
