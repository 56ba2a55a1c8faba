namespace TrigramLens.Figures;

/// <summary>
/// Figures queued while an analysis runs and rendered together at the end, one after another by default: drawing
/// them on several threads at once crashed the process (a segmentation fault inside SkiaSharp under ScottPlot's
/// <c>Heatmap.Render</c>: once in 27 studies of 5,000 figures, and about once per 15,000 figures in a harness drawing on
/// 4 threads; docs/figures.md).
/// </summary>
/// <param name="parallelism">figures drawn at once; above 1 only for callers that accept that risk</param>
public sealed class FigureBatch(int parallelism = 1)
{
    readonly List<(IFigure Figure, string Path, int Width, int Height)> _queued = [];

    public int Count => _queued.Count;

    public void Add(IFigure figure, string path, int width, int height) => _queued.Add((figure, path, width, height));

    public void RenderAll()
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) };
        Parallel.ForEach(_queued, options, q => Figure.Save(q.Figure.Build(), q.Path, q.Width, q.Height));
        _queued.Clear();
    }
}
