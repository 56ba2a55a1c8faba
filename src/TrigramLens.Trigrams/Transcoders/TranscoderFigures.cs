using TrigramLens.Figures;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>The figures of a transcoder's trigram analysis and of a sweep, as data-only figure descriptions.</summary>
public static class TranscoderFigures
{
    /// <summary>Normalised MSE and dead fraction over training (both fractions).</summary>
    public static IFigure TrainingCurves(IReadOnlyList<TranscoderLogEntry> log, string title) => new LineFigure
    {
        Lines =
        [
            new("FVU (batch normalised MSE)", log.Select(e => (double)e.Step).ToList(), log.Select(e => e.Fvu).ToList()),
            new("dead fraction", log.Select(e => (double)e.Step).ToList(), log.Select(e => e.DeadFraction).ToList()),
        ],
        Title = title,
        XLabel = "step",
        YLabel = "fraction",
        YRange = (0, 1),
    };

    /// <summary>Mean active features per position over training.</summary>
    public static IFigure TrainingL0(IReadOnlyList<TranscoderLogEntry> log) => new LineFigure
    {
        Lines = [new("L0", log.Select(e => (double)e.Step).ToList(), log.Select(e => e.L0).ToList())],
        Title = "L0 (active features per position) over training",
        XLabel = "step",
        YLabel = "L0",
    };

    /// <summary>Histogram of log10 feature density over the live features; dead ones (density 0) are counted in the note.</summary>
    public static IFigure DensityHistogram(IReadOnlyList<float> density, int bins = 30)
    {
        var logs = density.Where(d => d > 0).Select(d => Math.Log10(d)).ToList();
        int dead = density.Count - logs.Count;
        double lo = logs.Count > 0 ? Math.Floor(logs.Min() * 2) / 2 : -6, hi = 0;
        if (lo >= hi) lo = hi - 1;
        var edges = Enumerable.Range(0, bins + 1).Select(i => lo + (hi - lo) * i / bins).ToList();
        var counts = new double[bins];
        foreach (double v in logs) counts[Math.Clamp((int)((v - lo) / (hi - lo) * bins), 0, bins - 1)]++;
        return new HistogramFigure
        {
            Edges = edges,
            Counts = counts,
            Title = "Feature density over the analysis set",
            XLabel = "log10(fraction of positions where the feature is active)",
            YLabel = "features",
            Note = $"{logs.Count} live, {dead} dead (not shown)",
        };
    }

    /// <summary>
    /// Trigram × unit ownership: rows are the trigrams sorted by second token, columns the units whose heaviest
    /// (previous, current) pair is a trigram prefix, ordered by that trigram; each cell the share of the unit's mass on
    /// the row's prefix. A dedicated unit is a cell ≥ 0.9 in its trigram's row.
    /// </summary>
    public static IFigure Ownership(IReadOnlyList<FeaturePairMass> masses, TrigramSet trigrams, string unit, int owned)
    {
        var rows = trigrams.SortedBySecond();
        var rowOf = rows.Select((t, i) => (t, i)).ToDictionary(x => (x.t.A, x.t.B), x => x.i);
        var columns = masses
            .Where(m => m.Total > 0 && m.Pairs.Count > 0 && m.Pairs[0].Previous >= 0 && rowOf.ContainsKey((m.Pairs[0].Previous, m.Pairs[0].Current)))
            .OrderBy(m => rowOf[(m.Pairs[0].Previous, m.Pairs[0].Current)]).ThenBy(m => m.Feature)
            .ToList();
        var values = new double[rows.Count, Math.Max(1, columns.Count)];
        for (int c = 0; c < columns.Count; c++)
            foreach (var p in columns[c].Pairs)
                if (p.Previous >= 0 && rowOf.TryGetValue((p.Previous, p.Current), out int r)) values[r, c] = p.Mass / columns[c].Total;
        return new HeatmapFigure
        {
            Values = values,
            Title = $"Which {unit}s own which trigrams: {owned}/{trigrams.Count} trigrams have a dedicated {unit}",
            XLabel = $"{unit}s whose heaviest token pair is a trigram prefix ({columns.Count}), ordered by that trigram",
            YLabel = "trigram (a, b → c), sorted by b",
            ColorBarLabel = "share of the unit's activation mass on (a, b)",
            Range = (0, 1),
            YTickLabels = rows.Select(t => $"{t.A},{t.B}→{t.C}").ToList(),
        };
    }
}
