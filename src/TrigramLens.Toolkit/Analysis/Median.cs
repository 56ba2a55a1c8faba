using static TorchSharp.torch;

namespace TrigramLens.Analysis;

/// <summary>
/// <c>torch.median(x, dim)</c>, which TorchSharp 0.107 lacks: the lower median (for an even count, the smaller of
/// the two middle values), so numbers agree with PyTorch's.
/// </summary>
public static class Median
{
    public static Tensor Lower(Tensor values, long dim)
    {
        long n = values.shape[dim < 0 ? values.dim() + dim : dim];
        if (n == 0) throw new ArgumentException("median of an empty dimension");
        return values.kthvalue((n + 1) / 2, dim, keepdim: false).values;
    }
}
