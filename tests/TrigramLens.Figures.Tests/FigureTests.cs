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
}
