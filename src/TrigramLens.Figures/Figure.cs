using ScottPlot;
using TrigramLens.IO;

namespace TrigramLens.Figures;

/// <summary>Shared figure plumbing: atomic PNG writes, and tensors to plot data.</summary>
public static class Figure
{
    /// <summary>Renders <paramref name="plot"/> to a PNG file atomically and disposes it.</summary>
    public static void Save(Plot plot, string path, int width, int height)
    {
        byte[] png;
        using (plot) png = Png(plot, width, height);
        AtomicFile.WriteAllBytes(path, png);
    }

    /// <summary>
    /// The plot as PNG bytes, pixel for pixel what ScottPlot's own export gives. Our figures are areas of flat colour, which
    /// zlib packs well without PNG's per-row prediction filters; skipping them (<c>None</c>: Skia's <c>NoFilters</c> means
    /// "the default, all of them") makes files no larger and the encoding, half of a figure's time, cheaper (docs/figures.md).
    /// </summary>
    public static byte[] Png(Plot plot, int width, int height)
    {
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(width, height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Premul));
        plot.Render(surface.Canvas, width, height);
        using var image = surface.Snapshot();
        using var pixels = image.PeekPixels();
        using var data = pixels.Encode(new SkiaSharp.SKPngEncoderOptions(SkiaSharp.SKPngEncoderFilterFlags.None, zLibLevel: 6))
            ?? throw new InvalidOperationException($"Skia could not encode a {width} × {height} PNG");
        return data.ToArray();
    }

    /// <summary>[rows, cols] float tensor to a managed matrix; -inf (masked scores) becomes NaN so it is left blank.</summary>
    public static double[,] ToMatrix(TorchSharp.torch.Tensor matrix)
    {
        if (matrix.dim() != 2) throw new ArgumentException($"expected a matrix, got [{string.Join(", ", matrix.shape)}]");
        int rows = (int)matrix.shape[0], cols = (int)matrix.shape[1];
        var data = matrix.to(TorchSharp.torch.ScalarType.Float64).contiguous().data<double>().ToArray();
        var result = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[r, c] = double.IsInfinity(data[r * cols + c]) ? double.NaN : data[r * cols + c];
        return result;
    }
}
