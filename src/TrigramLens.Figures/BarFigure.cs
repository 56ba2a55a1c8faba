using ScottPlot;

namespace TrigramLens.Figures;

/// <summary>Bars at positions 0..n−1 (e.g. a distribution over the vocabulary), with chosen bars highlighted and labelled.</summary>
public sealed class BarFigure : IFigure
{
    public required IReadOnlyList<double> Values { get; init; }
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    /// <summary>Bars drawn in the accent colour and labelled with <see cref="HighlightLabel"/>.</summary>
    public IReadOnlyList<int> Highlighted { get; init; } = [];
    public string HighlightLabel { get; init; } = "";
    /// <summary>Label the <c>n</c> tallest bars with their index.</summary>
    public int LabelTop { get; init; }
    public (double Min, double Max)? YRange { get; init; }

    public Plot Build()
    {
        var plot = new Plot();
        var bars = Values.Select((v, i) => new Bar
        {
            Position = i,
            Value = v,
            FillColor = Highlighted.Contains(i) ? Colors.OrangeRed : Colors.SteelBlue,
            LineWidth = 0,
            Size = 0.8,
        }).ToList();
        plot.Add.Bars(bars);

        var top = Values.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(LabelTop).Select(x => x.i);
        foreach (int i in top.Union(Highlighted))
        {
            var label = plot.Add.Text(Highlighted.Contains(i) && HighlightLabel != "" ? $"{i} ({HighlightLabel})" : i.ToString(), i, Values[i]);
            label.LabelAlignment = Alignment.LowerCenter;
            label.LabelFontSize = 11;
        }
        if (YRange is var (min, max)) plot.Axes.SetLimitsY(min, max);
        else plot.Axes.Margins(bottom: 0);
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        return plot;
    }
}
