using ScottPlot;

namespace TrigramLens.Figures;

/// <summary>
/// A heat map of a matrix, row 0 at the top (as attention patterns and matrices are read), with a colour bar, per-cell
/// tick labels, outlined row bands, ✓ marks beside chosen rows and circles on chosen cells; each kind of mark is
/// explained in a legend below the plot when it has a label. Marks never cover a cell's colour.
/// </summary>
public sealed class HeatmapFigure : IFigure
{
    /// <summary>[rows, cols]; NaN cells are left blank.</summary>
    public required double[,] Values { get; init; }
    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public string ColorBarLabel { get; init; } = "";
    /// <summary>Colour range; default min..max of the finite values. Values outside are clipped.</summary>
    public (double Min, double Max)? Range { get; init; }
    /// <summary>Blue–white–red around zero instead of the sequential default (for signed matrices).</summary>
    public bool Diverging { get; init; }
    /// <summary>One label per column (thinned to stay legible).</summary>
    public IReadOnlyList<string>? XTickLabels { get; init; }
    /// <summary>One label per row (thinned to stay legible).</summary>
    public IReadOnlyList<string>? YTickLabels { get; init; }
    /// <summary>Labels at chosen columns only, e.g. one per tile; overrides <see cref="XTickLabels"/>.</summary>
    public IReadOnlyList<(double Col, string Label)>? XTicks { get; init; }
    /// <summary>Labels at chosen rows only; overrides <see cref="YTickLabels"/>.</summary>
    public IReadOnlyList<(double Row, string Label)>? YTicks { get; init; }
    /// <summary>Inclusive row ranges to outline across the whole width.</summary>
    public IReadOnlyList<(int FirstRow, int LastRow)> RowBands { get; init; } = [];
    /// <summary>What the outlined rows are, for the legend.</summary>
    public string RowBandLabel { get; init; } = "";
    /// <summary>Rows that get a ✓ in a column right of the matrix.</summary>
    public IReadOnlyList<int> CheckedRows { get; init; } = [];
    /// <summary>What a ✓ means, for the legend.</summary>
    public string CheckLabel { get; init; } = "";
    public IReadOnlyList<(int Row, int Col)> CircledCells { get; init; } = [];
    /// <summary>What a circle marks, for the legend.</summary>
    public string CircleLabel { get; init; } = "";
    /// <summary>Draw grid lines every this many cells (for tiled matrices); 0 for none.</summary>
    public int TileSize { get; init; }

    public int Rows => Values.GetLength(0);
    public int Cols => Values.GetLength(1);

    public Plot Build()
    {
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(Values);   // ScottPlot draws row 0 at the top, i.e. row r at y = Rows − 1 − r
        heatmap.Colormap = Diverging ? new ScottPlot.Colormaps.Balance() : new ScottPlot.Colormaps.Viridis();
        if (XTickLabels is not null && XTickLabels.Count != Cols) throw new ArgumentException($"{XTickLabels.Count} x tick labels for {Cols} columns");
        if (YTickLabels is not null && YTickLabels.Count != Rows) throw new ArgumentException($"{YTickLabels.Count} y tick labels for {Rows} rows");
        var (min, max) = Range ?? FiniteRange(Values);
        if (Diverging && Range is null) (min, max) = (-Math.Max(Math.Abs(min), Math.Abs(max)), Math.Max(Math.Abs(min), Math.Abs(max)));
        heatmap.ManualRange = new ScottPlot.Range(min, max == min ? min + 1 : max);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = ColorBarLabel;
        // The colour bar's width is estimated before its ticks are known; room for the widest tick keeps its label clear.
        colorBar.MinimumSize = 100;
        // Left alone, ScottPlot fills a tall bar with a tick every few pixels (0.01 steps on the ownership maps).
        colorBar.Axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { TargetTickCount = 10 };
        bool legend = false;

        for (int i = 0; i < RowBands.Count; i++)
        {
            var (first, last) = RowBands[i];
            var band = plot.Add.Rectangle(-0.5, Cols - 0.5, Y(last) - 0.5, Y(first) + 0.5);
            band.FillColor = Colors.Transparent;
            band.LineColor = Colors.OrangeRed;
            band.LineWidth = 1.5f;
            if (i == 0 && RowBandLabel != "") (band.LegendText, legend) = (RowBandLabel, true);
        }
        for (int i = 0; i < CheckedRows.Count; i++)
        {
            // Drawn as two strokes, not a glyph: the ✓ character is missing from many fonts.
            double x = Cols + 0.15, y = Y(CheckedRows[i]);
            var tick = plot.Add.Scatter(new[] { x, x + 0.25, x + 0.7 }, new[] { y, y - 0.3, y + 0.35 });
            tick.MarkerSize = 0;
            tick.LineWidth = 2;
            tick.Color = Colors.ForestGreen;
            if (i == 0 && CheckLabel != "") (tick.LegendText, legend) = ($"green tick at right: {CheckLabel}", true);
        }
        if (CircledCells.Count > 0)
        {
            var markers = plot.Add.Markers(CircledCells.Select(c => (double)c.Col).ToArray(), CircledCells.Select(c => Y(c.Row)).ToArray());
            markers.MarkerShape = MarkerShape.OpenCircle;
            markers.MarkerSize = Math.Clamp(500f / Math.Max(Rows, 1), 4, 14);
            markers.MarkerLineWidth = 1.5f;
            markers.Color = Colors.Red;
            if (CircleLabel != "") (markers.LegendText, legend) = (CircleLabel, true);
        }
        if (legend) plot.ShowLegend(Edge.Bottom);
        if (TileSize > 0)
        {
            for (int c = TileSize; c < Cols; c += TileSize) plot.Add.VerticalLine(c - 0.5, 1, Colors.White);
            for (int r = TileSize; r < Rows; r += TileSize) plot.Add.HorizontalLine(Y(r) + 0.5, 1, Colors.White);
        }

        SetTicks(plot.Axes.Bottom, XTicks ?? Thin(XTickLabels), c => c);
        SetTicks(plot.Axes.Left, YTicks ?? Thin(YTickLabels), r => Rows - 1 - r);
        if (XTickLabels is not null && XTickLabels.Max(l => l.Length) * Math.Min(Cols, 50) > 120)
            plot.Axes.Bottom.TickLabelStyle.Rotation = -90;   // long or many labels stand upright instead of overlapping
        double right = CheckedRows.Count > 0 ? Cols + 1 : Cols - 0.5;
        plot.Axes.SetLimits(-0.5, right, -0.5, Rows - 0.5);
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        return plot;
    }

    double Y(int row) => Rows - 1 - row;

    /// <summary>At most ~50 of the per-cell labels, evenly spaced.</summary>
    static List<(double, string)>? Thin(IReadOnlyList<string>? labels)
    {
        if (labels is null) return null;
        int step = Math.Max(1, (int)Math.Ceiling(labels.Count / 50.0));
        return Enumerable.Range(0, labels.Count).Where(i => i % step == 0).Select(i => ((double)i, labels[i])).ToList();
    }

    static void SetTicks(IAxis axis, IReadOnlyList<(double Cell, string Label)>? ticks, Func<double, double> position)
    {
        if (ticks is null) return;
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(t => position(t.Cell)).ToArray(), ticks.Select(t => t.Label).ToArray());
        axis.TickLabelStyle.FontSize = ticks.Count > 30 ? 9 : 12;
    }

    static (double, double) FiniteRange(double[,] values)
    {
        var finite = values.Cast<double>().Where(double.IsFinite).ToList();
        return finite.Count == 0 ? (0, 1) : (finite.Min(), finite.Max());
    }
}
