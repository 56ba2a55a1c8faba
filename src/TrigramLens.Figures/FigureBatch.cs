namespace TrigramLens.Figures;

/// <summary>
/// Figures queued while an analysis runs and rendered together at the end, in parallel: rendering PNGs is the
/// slowest part of a study and each figure is independent.
/// </summary>
public sealed class FigureBatch
{
    readonly List<(IFigure Figure, string Path, int Width, int Height)> _queued = [];

    public int Count => _queued.Count;

    public void Add(IFigure figure, string path, int width, int height) => _queued.Add((figure, path, width, height));

    public void RenderAll()
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.ForEach(_queued, options, q => Figure.Save(q.Figure.Build(), q.Path, q.Width, q.Height));
        _queued.Clear();
    }
}
