using System.Diagnostics;
using TorchSharp;
using TrigramLens.Analysis;
using TrigramLens.Figures;
using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Training;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using TrigramLens.Trigrams.Study.Report;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Trigrams.Study;

/// <summary>
/// The whole investigation of a trigram model (study-spec §4), in order: every number into <see cref="StudyResults"/>,
/// every figure as a PNG in the output directory. This class only sequences the stages, collects their results and
/// queues figures; every number comes from a named, tested function (<see cref="PrefixAttention"/>,
/// <see cref="PositionalPreference"/>, <see cref="TokenPairAgreement"/>, <see cref="SimplifiedModel"/>, ...).
/// </summary>
public sealed class TrigramStudy
{
    const int Head = 0;
    readonly HookedTransformer _model;
    readonly StudyOptions _options;
    readonly IReadOnlyList<int[]> _prefixes;
    readonly Action<StudyStage>? _onStage;
    readonly string _dir;
    readonly List<FigureInfo> _figures = [];
    readonly FigureBatch _rendering = new();
    readonly Dictionary<string, double> _seconds = [];
    StudyReportInputs? _reportInputs;   // what the interactive report needs of the analysis set, kept past its disposal

    TrigramStudy(HookedTransformer model, StudyOptions options, IReadOnlyList<int[]> prefixes, string directory, Action<StudyStage>? onStage)
    {
        _model = model;
        _options = options;
        _prefixes = prefixes;
        _onStage = onStage;
        _dir = directory;
    }

    /// <summary>Checks that the model has the shape the study is about: one layer, an MLP, no LayerNorm.</summary>
    public static void EnsureSupported(HookedTransformerConfig cfg)
    {
        if (cfg.n_layers != 1) throw new ArgumentException($"the trigram study needs a 1-layer model (this one has {cfg.n_layers})");
        if (cfg.attn_only) throw new ArgumentException("the trigram study needs a model with an MLP (this one is attention-only)");
        if (cfg.normalization_type != NormalizationType.None)
            throw new ArgumentException("the trigram study needs a model without LayerNorm (normalization_type None)");
        if (cfg.n_ctx < 3) throw new ArgumentException($"n_ctx must be at least 3 (got {cfg.n_ctx})");
    }

    /// <summary>
    /// Runs the study and writes its figures, <c>results.json</c> and <c>report.html</c> into
    /// <see cref="StudyOptions.OutputDirectory"/>, all or nothing (see <see cref="StudyOutput"/>).
    /// </summary>
    public static StudyResults Run(HookedTransformer model, string modelSource, StudyOptions options, Action<StudyStage>? onStage = null)
    {
        options.Validate();
        EnsureSupported(model.Cfg);
        var prefixes = options.ResolvePrefixes(model.Cfg);
        var output = StudyOutput.Begin(options.OutputDirectory);
        try
        {
            StudyResults results;
            var study = new TrigramStudy(model, options, prefixes, output.Staging, onStage);
            using (no_grad())
                results = study.Execute(modelSource);
            StudyResultsJson.Write(Path.Combine(output.Staging, "results.json"), results);
            StudyReport.Write(Path.Combine(output.Staging, "report.html"), results, study._reportInputs);
            output.Publish([.. results.Figures.Select(f => f.File), "results.json", "report.html"]);
            return results;
        }
        catch
        {
            output.Abandon();
            throw;
        }
    }

    StudyResults Execute(string modelSource)
    {
        var cfg = _model.Cfg;
        TrigramDataset? dataset = null;
        ActivationCache? cache = null;
        Tensor? logits = null, positions = null;
        AnalysisDatasetInfo info = null!;
        HeadlineMetrics metrics = null!;
        AttentionResults attention = null!;
        QkResults qk = null!;
        TokenPairMapResults pairs = null!;
        List<int[]> table = null!;
        List<PredictionDistribution> predictions = null!;
        SimplifiedModelResults simplified = null!;
        DirectLogitAttributionResults dla = null!;
        MlpJacobianResults jacobians = null!;
        PrincipalAngleResults angles = null!;
        ResidualVarianceResults variance = null!;

        // The stages, in the order of study-spec §4; their count is this list's.
        (string Name, Action Run)[] stages =
        [
            ("Analysis dataset, activation cache and headline metrics", () =>
            {
                dataset = TrigramDataset.Generate(TrigramDataConfig.For(_options.Seed, cfg), _options.AnalysisSize);
                // Only what the analyses read: every activation of 2,500 × 50 positions would be ~4× the memory.
                (logits, cache) = _model.RunWithCache(dataset.Tokens,
                    ActivationNames.Get("pattern", 0), ActivationNames.Get("resid_mid", 0), ActivationNames.Get("mlp_out", 0));
                logits = logits.DetachFromDisposeScope();
                positions = dataset.TrigramPositions().DetachFromDisposeScope();
                info = new AnalysisDatasetInfo(_options.Seed, dataset.Size, cfg.n_ctx, cfg.d_vocab, dataset.Trigrams.Count, positions.shape[0]);
                metrics = HeadlineMetrics.Of(_model, dataset, logits);
            }),
            ("Attention patterns", () => attention = AttentionPatterns(dataset!, cache!, logits!, positions!)),
            ("Positional and token QK scores", () => qk = QkDecomposition(dataset!, positions!)),
            ("Token-pair map", () => pairs = TokenPairMap(dataset!.Trigrams)),
            ("Trigram table", () => table = dataset!.Trigrams.SortedBySecond().Select(t => new[] { t.A, t.B, t.C }).ToList()),
            ("Prediction distributions", () => predictions = PredictionDistributions(dataset!.Trigrams)),
            ("Simplified model", () =>
            {
                var r = SimplifiedModel.Evaluate(_model, dataset!.Trigrams, Head);
                simplified = new SimplifiedModelResults(r.Simplified, r.FullModel, r.Misses);
            }),
            ("Direct logit attribution", () =>
            {
                using var mean = AttentionPathAccuracy.MeanMlpOut(cache!["mlp_out", 0]);
                var r = AttentionPathAccuracy.Evaluate(_model, dataset!.Trigrams, mean);
                dla = new DirectLogitAttributionResults(r.ResidMid, r.ResidMidPlusMeanMlp, mean.data<float>().ToArray());
            }),
            ("MLP Jacobians and linearised MLP", () => jacobians = Jacobians(dataset!, cache!)),
            ("Principal angles (W_O vs W_in)", () => angles = PrincipalAngleStage()),
            ("Residual variance", () => variance = ResidualVariance(cache!)),
            ("Rendering figures", () => _rendering.RenderAll()),
        ];
        try
        {
            for (int i = 0; i < stages.Length; i++) RunStage(i + 1, stages.Length, stages[i].Name, stages[i].Run);
            _reportInputs = StudyReportInputs.From(_model, dataset!);
        }
        finally
        {
            dataset?.Dispose();
            cache?.Dispose();
            logits?.Dispose();
            positions?.Dispose();
        }
        return new StudyResults(1, new ModelInfo(modelSource, cfg, _options.Training), info, metrics, attention, qk, pairs, table, predictions,
            simplified, dla, jacobians, angles, variance, _figures, _seconds);
    }

    void RunStage(int index, int count, string name, Action work)
    {
        var clock = Stopwatch.StartNew();
        using (NewDisposeScope()) work();
        _seconds[name] = Math.Round(clock.Elapsed.TotalSeconds, 3);
        _onStage?.Invoke(new StudyStage(index, count, name, clock.Elapsed));
    }

    void Queue(IFigure figure, string file, string section, string caption, int width, int height)
    {
        _figures.Add(new FigureInfo(file, section, caption));
        _rendering.Add(figure, Path.Combine(_dir, file), width, height);
    }

    // ---- 1. Attention patterns ---------------------------------------------------------------------------

    AttentionResults AttentionPatterns(TrigramDataset dataset, ActivationCache cache, Tensor logits, Tensor positions)
    {
        var tokens = dataset.Tokens;
        var pattern = cache["pattern", 0][.., Head];                                          // [batch, q, k]
        var correct = logits[.., ..^1].argmax(-1).eq(tokens[.., 1..]);                       // [batch, pos − 1]
        var rows = _options.AttentionRows.ToList();
        foreach (int row in rows)
        {
            long[] rowTokens = tokens[row].data<long>().ToArray();
            Queue(new HeatmapFigure
            {
                Values = Figure.ToMatrix(pattern[row]),
                Title = $"Attention pattern, row {row}",
                XLabel = "key token (positions 0, 1, ... left to right)", YLabel = "query position:token",
                ColorBarLabel = "attention", Range = (0, pattern[row].max().item<float>()),
                XTickLabels = rowTokens.Select(t => t.ToString()).ToArray(),
                YTickLabels = rowTokens.Select((t, i) => $"{i}:{t}").ToArray(),
                RowBands = PrefixBands(positions, row), RowBandLabel = "trigram prefix (both positions)",
                CheckedRows = CheckedRows(correct[row]), CheckLabel = "next token predicted correctly",
            }, $"attention-row{row}.png", "attention", $"Attention pattern of analysis row {row}", 900, 860);
        }
        var previous = PrefixAttention.PreviousTokenAttention(pattern, positions);
        return new AttentionResults(rows, PrefixAttention.InContextCompletions(logits, tokens, positions), Distribution.Of(previous));
    }

    /// <summary>The query rows of the trigram prefixes found in one analysis row: (p, p + 1) for each.</summary>
    static List<(int, int)> PrefixBands(Tensor positions, int row)
    {
        var p = positions.data<long>().ToArray();
        var bands = new List<(int, int)>();
        for (int i = 0; i < p.Length; i += 2)
            if (p[i] == row) bands.Add(((int)p[i + 1], (int)p[i + 1] + 1));
        return bands;
    }

    static List<int> CheckedRows(Tensor correctRow) =>
        correctRow.data<bool>().ToArray().Select((c, q) => (c, q)).Where(x => x.c).Select(x => x.q).ToList();

    // ---- 2. Positional vs token QK ----------------------------------------------------------------------

    QkResults QkDecomposition(TrigramDataset dataset, Tensor positions)
    {
        int nCtx = _model.Cfg.n_ctx;
        var positional = QkScores.Positional(_model, 0, Head);                                 // [n_ctx, n_ctx]
        var posLabels = Enumerable.Range(0, nCtx).Select(i => i.ToString()).ToArray();
        using var masked = double.NegativeInfinity.ToScalar();
        Queue(new HeatmapFigure
        {
            // Keys after the query can never be attended: blank, so they neither set the colour range nor hide the diagonal.
            Values = Figure.ToMatrix(positional.masked_fill(ones(nCtx, nCtx, ScalarType.Bool).triu(1), masked)),
            Title = "Positional-only QK scores (W_pos through W_Q, W_K; keys after the query blank)",
            XLabel = "key position", YLabel = "query position", ColorBarLabel = "score", Diverging = true,
            XTickLabels = posLabels, YTickLabels = posLabels,
        }, "qk-positional.png", "qk", "Pre-softmax scores from positional embeddings alone (signed: blue below zero, red above)", 860, 760);

        double tokenSpread = double.NaN;
        foreach (int row in _options.AttentionRows)
        {
            var tokenScores = QkScores.TokenOnly(_model, dataset.Tokens[row], 0, Head, causal: true);
            if (row == _options.AttentionRows[0]) tokenSpread = CausalSpread.Of(tokenScores);
            var labels = dataset.Tokens[row].data<long>().ToArray().Select(t => t.ToString()).ToArray();
            Queue(new HeatmapFigure
            {
                Values = Figure.ToMatrix(tokenScores),
                Title = $"Token-only QK scores, row {row} (causal)", Diverging = true,
                XLabel = "key token", YLabel = "query token", ColorBarLabel = "score",
                XTickLabels = labels, YTickLabels = labels,
                RowBands = PrefixBands(positions, row), RowBandLabel = "trigram prefix (both positions)",
            }, $"qk-token-row{row}.png", "qk", $"Pre-softmax scores from token embeddings alone, row {row}", 860, 760);
        }
        return QkResults.From(PositionalPreference.Of(positional), CausalSpread.Of(positional), tokenSpread);
    }

    // ---- 3. Token-pair map ------------------------------------------------------------------------------

    TokenPairMapResults TokenPairMap(TrigramSet trigrams)
    {
        // Token-only scores do not depend on position, so every token is a query and a key here (the published
        // study fed 0, 1, ..., n_ctx − 2 and so saw 49 of the 75 tokens).
        int vocab = _model.Cfg.d_vocab;
        var map = TokenPairAgreement.Map(_model, Head);
        var labels = Enumerable.Range(0, vocab).Select(i => i.ToString()).ToArray();
        Queue(new HeatmapFigure
        {
            Values = Figure.ToMatrix(map),
            Title = $"Token-pair attention, all {vocab} tokens (softmax over keys)",
            XLabel = "key token = trigram[0]", YLabel = "query token = trigram[1]", ColorBarLabel = "attention",
            XTickLabels = labels, YTickLabels = labels,
            CircledCells = trigrams.Trigrams.Select(t => (t.B, t.A)).ToList(), CircleLabel = "true trigram prefix (a, b)",
        }, "token-pair-map.png", "token_pair_map", $"Token-only attention between all {vocab} tokens; circles mark the true prefixes", 900, 860);

        var agreement = TokenPairAgreement.Evaluate(_model, trigrams, _options.HotSpotThreshold, Head);
        return new TokenPairMapResults(vocab, agreement.Vocabulary, new Count(agreement.RowsHottestKeyIsPrefix, agreement.Rows),
            agreement.Threshold, agreement.HotSpots, agreement.Precision, agreement.Recall,
            new Count(agreement.PrefixesInRowTop, agreement.Prefixes), agreement.Missed);
    }

    // ---- 5. Prediction distributions ----------------------------------------------------------------------

    List<PredictionDistribution> PredictionDistributions(TrigramSet trigrams)
    {
        var results = new List<PredictionDistribution>();
        foreach (var prefix in _prefixes)
        {
            string name = string.Join(",", prefix), file = $"prediction-{string.Join("-", prefix)}.png";
            var (result, probabilities) = NextTokenPrediction.After(_model, prefix, trigrams, file);
            Queue(new BarFigure
            {
                Values = probabilities.Select(p => (double)p).ToList(),
                Title = $"Next-token distribution after [{name}]" + (result.TrigramCompletion is int c ? $" (trigram completion {c})" : " (no trigram)"),
                XLabel = "token", YLabel = "probability", Highlighted = result.TrigramCompletion is int h ? [h] : [], HighlightLabel = "trigram",
                LabelTop = 3,
            }, file, "prediction_distributions", $"Prediction after [{name}]", 800, 360);
            results.Add(result);
        }
        return results;
    }

    // ---- 8. MLP Jacobians ------------------------------------------------------------------------------------

    MlpJacobianResults Jacobians(TrigramDataset dataset, ActivationCache cache)
    {
        var residMid = cache["resid_mid", 0];
        using var linear = LinearisedMlp.Evaluate(_model, dataset.Trigrams, residMid, cache["mlp_out", 0]);
        int checkRows = Math.Min(_options.JacobianCheckRows, (int)dataset.Size);
        double maxDiff = MlpJacobianCheck.MaxDisagreement(_model, 0, dataset.Tokens[..checkRows]);

        // Tiled view as the published study: 10 rows × 25 positions, colour clipped to [−1, 1].
        int tileRows = Math.Min(10, (int)dataset.Size), tilePositions = Math.Min(25, _model.Cfg.n_ctx), d = _model.Cfg.d_model;
        var closed = MlpJacobian.ClosedForm(_model, 0, residMid[..tileRows, ..tilePositions]);       // [r, p, out, in]
        var largest = closed.abs().amax([2, 3]);                                                      // [r, p]
        using var clip = 1.0.ToScalar();
        long saturated = largest.gt(clip).sum().item<long>();
        var tiles = closed.permute(0, 2, 1, 3).reshape(tileRows * d, tilePositions * d);
        Queue(new HeatmapFigure
        {
            Values = Figure.ToMatrix(tiles), Diverging = true, Range = (-1, 1), TileSize = d,
            Title = $"MLP Jacobians d resid_post / d resid_mid - I, clipped to [-1, 1]: one tile per (row, position)",
            XLabel = "position (tile columns: d_model in)", YLabel = "analysis row (tile rows: d_model out)", ColorBarLabel = "d out / d in",
            XTicks = Enumerable.Range(0, tilePositions).Select(p => (p * d + (d - 1) / 2.0, p.ToString())).ToList(),
            YTicks = Enumerable.Range(0, tileRows).Select(r => (r * d + (d - 1) / 2.0, r.ToString())).ToList(),
        }, "jacobian-tiles.png", "mlp_jacobian",
            $"Every tile is one (row, position)'s Jacobian. The colour is clipped at ±1: {saturated} of {tileRows * tilePositions} tiles have " +
            $"entries beyond it (largest {largest.max().item<float>():F2}), drawn at full colour; they are positions where many of the " +
            "MLP's ReLUs are active at once, so its slope adds up", 1400, 640);

        SaveMatrix(closed[0, 0], "jacobian-row0-pos0.png", "One Jacobian: row 0, position 0", (-1, 1));
        SaveMatrix(linear.Mean, "jacobian-mean.png", "Mean Jacobian over all rows and positions", null);
        SaveMatrix(linear.Median, "jacobian-median.png", "Median Jacobian (over rows, then positions)", null);

        return new MlpJacobianResults(linear.Positions, Rows(linear.Mean), Rows(linear.Median), linear.MedianBias.data<float>().ToArray(),
            linear.Linearised, new JacobianCheck(checkRows, maxDiff),
            linalg.matrix_norm(linear.Median).item<float>(), linalg.matrix_norm(linear.Mean).item<float>());
    }

    void SaveMatrix(Tensor matrix, string file, string title, (double, double)? range)
    {
        var labels = Enumerable.Range(0, (int)matrix.shape[0]).Select(i => i.ToString()).ToArray();
        Queue(new HeatmapFigure
        {
            Values = Figure.ToMatrix(matrix), Diverging = true, Range = range, Title = title,
            XLabel = "d_model in (resid_mid)", YLabel = "d_model out (resid_post)", ColorBarLabel = "d out / d in",
            XTickLabels = labels, YTickLabels = labels,
        }, file, "mlp_jacobian", title, 720, 640);
    }

    static float[][] Rows(Tensor matrix) =>
        Enumerable.Range(0, (int)matrix.shape[0]).Select(r => matrix[r].data<float>().ToArray()).ToArray();

    // ---- 10. Principal angles ------------------------------------------------------------------------------

    PrincipalAngleResults PrincipalAngleStage()
    {
        var result = PrincipalAngleResults.FromCosines(PrincipalAngles.WriteReadCosines(_model.W_O[0, Head], _model.W_in[0]).data<float>().ToArray());
        Queue(new LineFigure
        {
            Lines = [new("cos θ", Enumerable.Range(0, result.Cosines.Length).Select(i => (double)i).ToList(),
                result.AnglesDegrees.Select(a => Math.Cos(a * Math.PI / 180)).ToList())],
            Title = "Principal angles: what the head writes (W_O) vs what the MLP reads (W_in)",
            XLabel = "principal direction", YLabel = "cos θ", YRange = (0, 1.05),
        }, "principal-angles.png", "principal_angles", "cos θ per principal direction", 800, 420);
        return result;
    }

    // ---- 11. Residual variance ------------------------------------------------------------------------------

    ResidualVarianceResults ResidualVariance(ActivationCache cache)
    {
        var result = ResidualVarianceResults.FromVariance(ActivationVariance.PerDimension(cache["resid_mid", 0]));
        Queue(new BarFigure
        {
            Values = result.Variance.Select(v => (double)v).ToList(),
            Title = "Variance of hook_resid_mid per dimension (all rows and positions)",
            XLabel = "residual dimension", YLabel = "variance",
        }, "residual-variance.png", "residual_variance", "Per-dimension variance of resid_mid", 800, 380);
        return result;
    }
}
