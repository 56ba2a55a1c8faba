using TrigramLens.Figures;
using TrigramLens.Testing;

namespace TrigramLens.Figures.Tests;

public sealed class FigureTests() : TempDirectoryTests("trigramlens-fig-")
{
    static bool IsPng(string path) => File.ReadAllBytes(path).AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 });

    [Fact]
    public void A_batch_renders_every_queued_figure_as_png()
    {
        var batch = new FigureBatch();
        var values = new double[,] { { 1, 2, double.NaN }, { 3, 4, 5 } };
        batch.Add(new HeatmapFigure { Values = values, XTickLabels = ["a", "b", "c"], YTickLabels = ["x", "y"], CheckedRows = [1], RowBands = [(0, 0)], CircledCells = [(1, 2)] },
            Path.Combine(Dir, "h.png"), 300, 200);
        batch.Add(new BarFigure { Values = [0.1, 0.7, 0.2], Highlighted = [1], HighlightLabel = "c", LabelTop = 1 }, Path.Combine(Dir, "b.png"), 300, 200);
        batch.Add(new LineFigure { Lines = [new("s", [0, 1], [1, 0.5])], References = [(0.7, "target")] }, Path.Combine(Dir, "l.png"), 300, 200);
        batch.RenderAll();

        Assert.Equal(0, batch.Count);
        Assert.All(["h.png", "b.png", "l.png"], f => Assert.True(IsPng(Path.Combine(Dir, f)), f));
    }

    [Fact]
    public void Tick_labels_must_match_the_matrix()
    {
        var figure = new HeatmapFigure { Values = new double[2, 3], XTickLabels = ["a", "b"] };
        Assert.Throws<ArgumentException>(() => figure.Build());
    }

    // One epoch is one point per series: drawn as markers (a line through one point draws nothing).
    [Fact]
    public void Curves_of_a_single_epoch_show_their_points()
    {
        string path = Path.Combine(Dir, "curves.png");
        TrainingCurves.SavePng(path, "one epoch", [new CurveSeries("train loss", [4.2])], "loss",
            [new CurveSeries("trigram accuracy", [0.4])], "fraction", 600, 400);
        using var image = SkiaSharp.SKBitmap.Decode(path);
        int blue = 0, orange = 0;
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                var c = image.GetPixel(x, y);
                if (Near(c, 70, 130, 180)) blue++;            // SteelBlue: the first series
                if (Near(c, 255, 140, 0)) orange++;           // DarkOrange: the second
            }
        // The legend's sample line alone is about 20 pixels of each colour; a point adds about 50.
        Assert.True(blue > 45, $"{blue} pixels of the loss series");
        Assert.True(orange > 45, $"{orange} pixels of the accuracy series");
    }

    static bool Near(SkiaSharp.SKColor c, int r, int g, int b) => Math.Abs(c.Red - r) < 12 && Math.Abs(c.Green - g) < 12 && Math.Abs(c.Blue - b) < 12;

    [Fact]
    public void Scatter_points_that_coincide_share_one_label_and_the_rest_keep_their_own()
    {
        var figure = new ScatterFigure
        {
            Points = [new("runs", [64, 64.001, 128, 2048], [0.79, 0.79, 0.67, 0.3], ["a", "b", "c", "d"])],
        };
        var labels = figure.Build().GetPlottables<ScottPlot.Plottables.Text>().Select(t => t.LabelText).Order().ToArray();
        Assert.Equal(["a, b", "c", "d"], labels);
    }

    [Fact]
    public void Heat_map_colour_bars_keep_about_ten_ticks_however_tall()
    {
        var values = new double[200, 3];
        for (int r = 0; r < 200; r++) values[r, 0] = r / 199.0;
        var plot = new HeatmapFigure { Values = values }.Build();
        plot.RenderInMemory(400, 2400);
        var bar = plot.Axes.GetPanels().OfType<ScottPlot.Panels.ColorBar>().Single();
        int ticks = bar.Axis.TickGenerator.Ticks.Count(t => t.IsMajor);
        Assert.InRange(ticks, 3, 15);
    }

    [Fact]
    public void Our_png_has_the_pixels_of_scottplots_own_export()
    {
        var values = new double[,] { { 1, 2, double.NaN }, { 3, 4, 5 } };
        HeatmapFigure Make() => new() { Values = values, Title = "t", XTickLabels = ["a", "b", "c"], YTickLabels = ["x", "y"], CheckedRows = [1], CheckLabel = "ok" };
        byte[] ours, theirs;
        using (var plot = Make().Build()) ours = Figure.Png(plot, 320, 240);
        using (var plot = Make().Build()) theirs = plot.GetImageBytes(320, 240, ScottPlot.ImageFormat.Png);
        using var a = SkiaSharp.SKBitmap.Decode(ours);
        using var b = SkiaSharp.SKBitmap.Decode(theirs);
        Assert.Equal((320, 240), (a.Width, a.Height));
        Assert.Equal((b.Width, b.Height), (a.Width, a.Height));
        int differing = 0;
        for (int y = 0; y < a.Height; y++)
            for (int x = 0; x < a.Width; x++)
                if (a.GetPixel(x, y) != b.GetPixel(x, y)) differing++;
        Assert.Equal(0, differing);
        Assert.True(a.Pixels.Distinct().Count() > 10, "the figure is not blank");
    }
}
