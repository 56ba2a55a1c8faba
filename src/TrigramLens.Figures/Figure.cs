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
        using (plot) png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, png);
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
