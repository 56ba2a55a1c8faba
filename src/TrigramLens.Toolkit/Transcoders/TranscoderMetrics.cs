using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>
/// How well a transcoder reconstructs its target and how sparsely, over a set of positions.
/// </summary>
/// <param name="Positions">positions measured</param>
/// <param name="Fvu">fraction of variance unexplained, <c>Σ‖y − ŷ‖² / Σ‖y − ȳ‖²</c> (ȳ the mean over the positions)</param>
/// <param name="Mse">mean squared error per position, <c>Σ‖y − ŷ‖² / positions</c></param>
/// <param name="L0">mean number of active (non-zero) features per position</param>
/// <param name="Dead">features active on none of the positions</param>
/// <param name="Dense">features active on more than <see cref="DenseThreshold"/> of the positions</param>
/// <param name="Density">per feature, the fraction of positions where it is active [d_sae]</param>
public sealed record TranscoderMetrics(long Positions, double Fvu, double Mse, double L0, int Dead, int Dense, double DenseThreshold, float[] Density)
{
    public double ExplainedVariance => 1 - Fvu;

    /// <summary>
    /// Positions per chunk when a whole dataset's features are computed: about 2 M activations (8 MB) at a time. Much
    /// larger tensors come and go as fresh memory maps on every allocation (glibc maps requests from 32 MiB on afresh each
    /// time), and their page faults cost more than the arithmetic.
    /// </summary>
    public static int ChunkPositions(int dSae) => Math.Max(1, (1 << 21) / dSae);

    /// <summary>The default for <see cref="DenseThreshold"/>: active on more than 10 % of positions.</summary>
    public const double DefaultDenseThreshold = 0.1;

    /// <summary>
    /// Measures <paramref name="transcoder"/> on inputs <paramref name="x"/> [n, d_in] against targets
    /// <paramref name="y"/> [n, d_out], <paramref name="chunk"/> positions at a time (default:
    /// <see cref="ChunkPositions"/>). Sums are accumulated in float64.
    /// </summary>
    public static TranscoderMetrics Measure(Transcoder transcoder, Tensor x, Tensor y, int? chunk = null, double denseThreshold = DefaultDenseThreshold)
    {
        int step = chunk ?? ChunkPositions(transcoder.Cfg.d_sae);
        if (x.dim() != 2 || y.dim() != 2 || x.shape[0] != y.shape[0])
            throw new ArgumentException($"x [n, d_in] and y [n, d_out] must have the same n; got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}]");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        var mean = y.to(ScalarType.Float64).mean([0]);
        double sse = 0, sst = 0, active = 0;
        var counts = zeros(transcoder.Cfg.d_sae, ScalarType.Float64);
        for (long start = 0; start < n; start += step)
        {
            using var inner = NewDisposeScope();
            long size = Math.Min(step, n - start);
            var xs = x.narrow(0, start, size);
            var ys = y.narrow(0, start, size);
            var (yhat, f) = transcoder.ForwardWithActivations(xs);
            sse += (ys - yhat).to(ScalarType.Float64).Squared().sum().item<double>();
            sst += (ys.to(ScalarType.Float64) - mean).Squared().sum().item<double>();
            var on = f.NonZero().to(ScalarType.Float32);
            var perFeature = on.sum([0]).to(ScalarType.Float64);
            active += perFeature.sum().item<double>();
            counts.PlusInPlace(perFeature);
        }
        var density = counts.Over(n).to(ScalarType.Float32).data<float>().ToArray();
        int dead = density.Count(d => d == 0), dense = density.Count(d => d > denseThreshold);
        return new TranscoderMetrics(n, sse / sst, sse / n, active / n, dead, dense, denseThreshold, density);
    }
}
