using TorchSharp;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Study.Report;

/// <summary>
/// Each transcoder feature over the analysis set: density, activation histogram, and where its activation mass lies by
/// (previous token, current token) — the trigram prefix it reads, when it reads one. Mass shares are of the feature's
/// total over every position (position 0, which has no previous token, counts in the total but in no prefix).
/// </summary>
public static class TranscoderFeatureStats
{
    public const int HistogramBins = 20;
    public const int TopPrefixCount = 10;
    /// <summary>A feature is dedicated to a trigram when at least this share of its mass lies on the trigram's prefix.</summary>
    public const double DedicatedShare = 0.5;

    /// <param name="batchRows">rows per chunk; by default about 2 M activations at a time (as TranscoderMetrics.ChunkPositions:
    /// much larger tensors come and go as fresh memory maps whose page faults cost more than the arithmetic)</param>
    public static IReadOnlyList<TranscoderFeature> Compute(TranscoderReport report, StudyReportInputs inputs, int? batchRows = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var model = inputs.Model;
        int v = inputs.Trigrams.DVocab, n = report.DSae, seq = inputs.SeqLen;
        // Every scalar handed to libtorch is held here until the end (see HeldScalars).
        using Scalar one = 1.ToScalar(), zero = 0.ToScalar(), vocab = v.ToScalar(), bins = HistogramBins.ToScalar(),
            lastBin = (HistogramBins - 1).ToScalar(), tiny = double.Epsilon.ToScalar();
        using var tokens = inputs.TokensTensor();
        var mass = zeros(v * v, n, dtype: ScalarType.Float64);                 // [prefix, feature]
        var activePositions = zeros(v * v, n, dtype: ScalarType.Int64);
        var total = zeros(n, dtype: ScalarType.Float64);
        var active = zeros(n, dtype: ScalarType.Int64);
        var max = zeros(n, dtype: ScalarType.Float64);
        var inputsByChunk = new List<Tensor>();                                 // the encoder's inputs, re-encoded for the histograms
        int rowsPerChunk = batchRows ?? Math.Max(1, TrigramLens.Transcoders.TranscoderMetrics.ChunkPositions(report.DSae) / inputs.SeqLen);
        for (int start = 0; start < inputs.Rows; start += rowsPerChunk)
        {
            using var chunk = NewDisposeScope();   // each chunk's temporaries go at its end: together they would be gigabytes
            var batch = tokens.narrow(0, start, Math.Min(rowsPerChunk, inputs.Rows - start));
            var (_, cache) = model.RunWithCache(batch, report.HookIn);
            using (cache)
            {
                var x = cache[report.HookIn];                                   // [b, pos, d_in]
                var f = report.Transcoder.Encode(x.reshape(-1, report.DIn)).view(batch.shape[0], seq, n).to(ScalarType.Float64);
                total.add_(f.sum([0, 1]), one);
                active.add_(f.gt(zero).sum([0, 1]), one);
                max.copy_(maximum(max, f.amax([0, 1])));
                var keys = batch[.., ..^1].mul(vocab).add_(batch[.., 1..], one).reshape(-1);   // [b * (pos − 1)], a * d_vocab + b
                var later = f[.., 1..].reshape(-1, n);
                mass.index_add_(0, keys, later, one);
                activePositions.index_add_(0, keys, later.gt(zero).to(ScalarType.Int64), one);
                inputsByChunk.Add(x.reshape(-1, report.DIn).clone().MoveToOuterDisposeScope());
            }
        }
        long positions = (long)inputs.Rows * seq;
        double[] totals = total.data<double>().ToArray(), maxima = max.data<double>().ToArray();
        long[] counts = active.data<long>().ToArray();

        // Histograms: nonzero activations in HistogramBins equal bins over [0, max]: bin i holds [i/B, (i+1)/B) of the
        // max, the last also the max itself.
        var histogram = zeros(n * HistogramBins, dtype: ScalarType.Int64);
        var safeMax = max.clamp_min(tiny);
        var offsets = tensor(Enumerable.Range(0, n).Select(j => (long)j * HistogramBins).ToArray());   // [d_sae]
        foreach (var x in inputsByChunk)
        {
            using var chunk = NewDisposeScope();
            var f = report.Transcoder.Encode(x).to(ScalarType.Float64);                    // [n_pos, d_sae]
            var bin = f.div(safeMax).mul_(bins).floor_().clamp_(zero, lastBin).to(ScalarType.Int64);
            var slots = bin.add_(offsets, one).masked_select(f.gt(zero));
            histogram.index_add_(0, slots, ones_like(slots), one);
        }
        long[] histogramData = histogram.data<long>().ToArray();
        var histograms = Enumerable.Range(0, n).Select(j => histogramData.AsSpan(j * HistogramBins, HistogramBins).ToArray()).ToArray();

        var (topMass, topKeys) = mass.topk(Math.Min(TopPrefixCount, v * v), dim: 0);     // [top, feature]
        double[] topMassData = topMass.t().contiguous().data<double>().ToArray();
        long[] topKeyData = topKeys.t().contiguous().data<long>().ToArray();
        long[] activeAt = activePositions.data<long>().ToArray();
        int top = (int)topMass.shape[0];
        var features = new List<TranscoderFeature>(n);
        for (int j = 0; j < n; j++)
        {
            var prefixes = new List<PrefixShare>();
            for (int r = 0; r < top; r++)
            {
                double m = topMassData[j * top + r];
                if (m <= 0 || totals[j] <= 0) break;
                int key = (int)topKeyData[j * top + r], a = key / v, b = key % v;
                prefixes.Add(new PrefixShare(a, b, m / totals[j], activeAt[(long)key * n + j], inputs.Trigrams.Completion(a, b)));
            }
            int[]? dedicated = prefixes.Count > 0 && prefixes[0].Share >= DedicatedShare && prefixes[0].Completion is int c
                ? [prefixes[0].A, prefixes[0].B, c] : null;
            features.Add(new TranscoderFeature(j, counts[j] / (double)positions, counts[j] == 0 ? 0 : totals[j] / counts[j], maxima[j],
                histograms[j], prefixes, dedicated));
        }
        return features;
    }
}
