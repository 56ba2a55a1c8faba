using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>Checks of tensor contents read from a file, made before any other native operation sees them.</summary>
static class TensorChecks
{
    /// <summary>
    /// A bool tensor read from raw bytes may hold values other than 0 and 1, which libtorch's kernels assume never
    /// happens; the bytes are checked in managed code.
    /// </summary>
    public static void RequireBoolBytes(Tensor tensor, string name, string source)
    {
        if (tensor.numel() == 0) return;
        foreach (byte b in tensor.bytes)
            if (b > 1)
                throw new CheckpointException($"'{CheckpointText.Shorten(name)}' in {source} is a bool tensor holding the byte value {b}");
    }

    /// <summary>
    /// Refuses NaN and infinite values: a model or optimizer state holding them cannot compute anything meaningful,
    /// so loading it would only move the failure to a confusing place.
    /// </summary>
    public static void RequireFinite(Tensor tensor, string name, string source)
    {
        if (!tensor.is_floating_point() || tensor.numel() == 0) return;
        using var scope = NewDisposeScope();
        long bad = tensor.isfinite().logical_not().sum().item<long>();
        if (bad > 0)
        {
            long nan = tensor.isnan().sum().item<long>();
            throw new CheckpointException(
                $"'{name}' in {source} holds {bad} non-finite value{(bad == 1 ? "" : "s")} ({nan} NaN, {bad - nan} infinite) of {tensor.numel()}: refusing to load it");
        }
    }
}
