using static TorchSharp.torch;

namespace TrigramLens.Analysis;

/// <summary>How much each dimension of an activation varies over a dataset: which directions of, say, the residual
/// stream carry information, and how unevenly.</summary>
public static class ActivationVariance
{
    /// <summary>The unbiased variance of every last-axis dimension over all other axes.</summary>
    /// <param name="activations">[..., d] e.g. [batch, pos, d_model]</param>
    /// <returns>[d] as floats</returns>
    public static float[] PerDimension(Tensor activations)
    {
        if (activations.dim() < 2) throw new ArgumentException($"need at least [samples, d]; got [{string.Join(", ", activations.shape)}]");
        using var scope = NewDisposeScope();
        var rows = activations.reshape(-1, activations.shape[^1]);
        if (rows.shape[0] < 2) throw new ArgumentException("a variance needs at least two samples");
        return rows.var(0, unbiased: true, keepdim: false).to(ScalarType.Float32).data<float>().ToArray();
    }
}
