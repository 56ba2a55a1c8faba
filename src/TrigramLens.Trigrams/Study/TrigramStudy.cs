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
/// every figure as a PNG in the output directory.
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
    int _stage;
    StudyReportInputs? _reportInputs;   // what the interactive report needs of the analysis set, kept past its disposal

    public const int StageCount = 12;

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
        var dataConfig = TrigramDataConfig.Arena with { Seed = _options.Seed, DVocab = cfg.d_vocab, SeqLen = cfg.n_ctx };

        TrigramDataset dataset = null!;
        ActivationCache cache = null!;
        Tensor logits = null!;
        HeadlineMetrics metrics = null!;
        Stage("Analysis dataset, activation cache and headline metrics", () =>
        {
            dataset = TrigramDataset.Generate(dataConfig, _options.AnalysisSize);
            // Only what the analyses read: every activation of 2,500 × 50 positions would be ~4× the memory.
            (logits, cache) = _model.RunWithCache(dataset.Tokens,
                ActivationNames.Get("pattern", 0), ActivationNames.Get("resid_mid", 0), ActivationNames.Get("mlp_out", 0));
            logits = logits.DetachFromDisposeScope();
            var m = TrigramModelMetrics.OnTrigrams(_model, dataset.Trigrams);
            double loss = NextTokenLoss.Compute(logits, dataset.Tokens).item<float>();
            metrics = new HeadlineMetrics(m.Accuracy, m.MeanCorrectProbability, loss,
                TrigramModelMetrics.LossFraction(loss, cfg.d_vocab, dataConfig.ResolvedTrigramProb));
        });

        using (dataset)
        using (cache)
        using (logits)
        {
            using var positions = dataset.TrigramPositions();
            var info = new AnalysisDatasetInfo(_options.Seed, dataset.Size, cfg.n_ctx, cfg.d_vocab, dataset.Trigrams.Count, positions.shape[0]);
            var attention = Stage("Attention patterns", () => AttentionPatterns(dataset, cache, logits, positions));
            var qk = Stage("Positional and token QK scores", () => QkDecomposition(dataset, positions));
            var pairs = Stage("Token-pair map", () => TokenPairMap(dataset.Trigrams));
            var table = Stage("Trigram table", () => dataset.Trigrams.SortedBySecond().Select(t => new[] { t.A, t.B, t.C }).ToList());
            var predictions = Stage("Prediction distributions", () => PredictionDistributions(dataset.Trigrams));
            var simplified = Stage("Simplified model", () =>
            {
                var r = SimplifiedModel.Evaluate(_model, dataset.Trigrams, Head);
                return new SimplifiedModelResults(r.Simplified, r.FullModel, r.Misses);
            });
            var dla = Stage("Direct logit attribution", () =>
            {
                using var mean = AttentionPathAccuracy.MeanMlpOut(cache["mlp_out", 0]);
                var r = AttentionPathAccuracy.Evaluate(_model, dataset.Trigrams, mean);
                return new DirectLogitAttributionResults(r.ResidMid, r.ResidMidPlusMeanMlp, mean.data<float>().ToArray());
            });
            var jacobians = Stage("MLP Jacobians and linearised MLP", () => Jacobians(dataset, cache));
            var angles = Stage("Principal angles (W_O vs W_in)", PrincipalAngleStage);
            var variance = Stage("Residual variance", () => ResidualVariance(cache));
            Stage($"Rendering {_rendering.Count} figures", () => _rendering.RenderAll());
            _reportInputs = StudyReportInputs.From(_model, dataset);

            return new StudyResults(1, new ModelInfo(modelSource, cfg, _options.Training), info, metrics, attention, qk, pairs, table, predictions,
                simplified, dla, jacobians, angles, variance, _figures, _seconds);
        }
    }

    T Stage<T>(string name, Func<T> work)
    {
        var clock = Stopwatch.StartNew();
        T result;
        using (var scope = NewDisposeScope()) result = work();
        _stage++;
        _seconds[name] = Math.Round(clock.Elapsed.TotalSeconds, 3);
        _onStage?.Invoke(new StudyStage(_stage, StageCount, name, clock.Elapsed));
        return result;
    }

    void Stage(string name, Action work) => Stage(name, () => { work(); return 0; });

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
                Title = $"Attention pattern, row {row} (ticks at right = next token predicted; bands = trigram prefixes)",
                XLabel = "key token (positions 0, 1, ... left to right)", YLabel = "query position:token",
                ColorBarLabel = "attention", Range = (0, pattern[row].max().item<float>()),
                XTickLabels = rowTokens.Select(t => t.ToString()).ToArray(),
                YTickLabels = rowTokens.Select((t, i) => $"{i}:{t}").ToArray(),
                RowBands = PrefixBands(positions, row), CheckedRows = CheckedRows(correct[row]),
            }, $"attention-row{row}.png", "attention", $"Attention pattern of analysis row {row}", 900, 820);
        }

        // In-data trigrams: the prefix at (row, pos), its completion at pos + 2 predicted from position pos + 1.
        using var lastPrefixStart = (tokens.shape[1] - 3).ToScalar();
        using var one = 1L.ToScalar();
        var inData = positions[positions[.., 1].le(lastPrefixStart)];                         // [n, 2]
        var (r, q) = (TensorIndex.Tensor(inData[.., 0]), TensorIndex.Tensor(inData[.., 1].add(one, One)));
        long total = inData.shape[0], predicted = correct[r, q].sum().item<long>();
        var previous = pattern[r, q, TensorIndex.Tensor(inData[.., 1])].to(ScalarType.Float64).data<double>().ToList();
        return new AttentionResults(rows, new Count(predicted, total), Summarise(previous));
    }

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

    static Distribution Summarise(List<double> values)
    {
        if (values.Count == 0) return new Distribution(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var sorted = values.Order().ToList();
        return new Distribution(values.Count, values.Average(), sorted[(sorted.Count - 1) / 2],
            values.Count(v => v > 0.9) / (double)values.Count, values.Count(v => v < 0.5) / (double)values.Count);
    }

    // ---- 2. Positional vs token QK ----------------------------------------------------------------------

    QkResults QkDecomposition(TrigramDataset dataset, Tensor positions)
    {
        int nCtx = _model.Cfg.n_ctx;
        var positional = QkScores.Positional(_model, 0, Head);                                 // [n_ctx, n_ctx]
        var posLabels = Enumerable.Range(0, nCtx).Select(i => i.ToString()).ToArray();
        Queue(new HeatmapFigure
        {
            Values = Figure.ToMatrix(positional),
            Title = "Positional-only QK scores (W_pos through W_Q, W_K; unmasked)",
            XLabel = "key position", YLabel = "query position", ColorBarLabel = "score",
            XTickLabels = posLabels, YTickLabels = posLabels,
        }, "qk-positional.png", "qk", "Pre-softmax scores from positional embeddings alone", 860, 760);

        double tokenStd = 0;
        foreach (int row in _options.AttentionRows)
        {
            var tokenScores = QkScores.TokenOnly(_model, dataset.Tokens[row], 0, Head, causal: true);
            if (row == _options.AttentionRows[0]) tokenStd = tokenScores.masked_select(tokenScores.isfinite()).std().item<float>();
            var labels = dataset.Tokens[row].data<long>().ToArray().Select(t => t.ToString()).ToArray();
            Queue(new HeatmapFigure
            {
                Values = Figure.ToMatrix(tokenScores),
                Title = $"Token-only QK scores, row {row} (causal; bands = trigram prefixes)",
                XLabel = "key token", YLabel = "query token", ColorBarLabel = "score",
                XTickLabels = labels, YTickLabels = labels, RowBands = PrefixBands(positions, row),
            }, $"qk-token-row{row}.png", "qk", $"Pre-softmax scores from token embeddings alone, row {row}", 860, 760);
        }

        // Where does position alone point a query: at itself, at the previous token, or further back?
        int prefersCurrent = 0, prefersPrevious = 0;
        double currentOverPrevious = 0;
        for (int q = 1; q < nCtx; q++)
        {
            currentOverPrevious += (positional[q, q] - positional[q, q - 1]).item<float>() / (nCtx - 1);
            long best = positional[q, ..(q + 1)].argmax().item<long>();
            if (best == q) prefersCurrent++;
            else if (best == q - 1) prefersPrevious++;
        }
        var lower = positional.masked_select(ones(nCtx, nCtx, ScalarType.Bool).tril());
        return new QkResults(new Count(prefersCurrent, nCtx - 1), new Count(prefersPrevious, nCtx - 1), currentOverPrevious,
            lower.std().item<float>(), tokenStd);
    }

    // ---- 3. Token-pair map ------------------------------------------------------------------------------

    TokenPairMapResults TokenPairMap(TrigramSet trigrams)
    {
        // As the published study: feed 0, 1, …, n_ctx − 2 and look at token-only attention between those tokens.
        int n = Math.Min(_model.Cfg.n_ctx - 1, _model.Cfg.d_vocab);
        var map = QkScores.TokenPairMap(_model, tensor(Enumerable.Range(0, n).Select(t => (long)t).ToArray()), 0, Head);
        var labels = Enumerable.Range(0, n).Select(i => i.ToString()).ToArray();
        var trueCells = trigrams.Trigrams.Where(t => t.A < n && t.B < n).Select(t => (t.B, t.A)).ToList();
        Queue(new HeatmapFigure
        {
            Values = Figure.ToMatrix(map),
            Title = $"Token-pair attention (softmax over keys); circles = true trigram prefixes",
            XLabel = "key token = trigram[0]", YLabel = "query token = trigram[1]", ColorBarLabel = "attention",
            XTickLabels = labels, YTickLabels = labels, CircledCells = trueCells,
        }, "token-pair-map.png", "token_pair_map", $"Token-only attention between tokens 0..{n - 1}", 880, 800);

        var agreement = TokenPairAgreement.Evaluate(_model, trigrams, _options.HotSpotThreshold, Head);
        return new TokenPairMapResults(n, agreement.Vocabulary, new Count(agreement.RowsHottestKeyIsPrefix, agreement.Rows),
            agreement.Threshold, agreement.HotSpots, agreement.Precision, agreement.Recall,
            new Count(agreement.PrefixesInRowTop, agreement.Prefixes), agreement.Missed);
    }

    // ---- 5. Prediction distributions ----------------------------------------------------------------------

    List<PredictionDistribution> PredictionDistributions(TrigramSet trigrams)
    {
        var results = new List<PredictionDistribution>();
        foreach (var prefix in _prefixes)
        {
            var probabilities = _model.call(tensor(prefix.Select(t => (long)t).ToArray()))[0, -1].softmax(-1).data<float>().ToArray();
            int? completion = prefix.Length >= 2 ? trigrams.Completion(prefix[^2], prefix[^1]) : null;
            string name = string.Join(",", prefix);
            string file = $"prediction-{string.Join("-", prefix)}.png";
            Queue(new BarFigure
            {
                Values = probabilities.Select(p => (double)p).ToList(),
                Title = $"Next-token distribution after [{name}]" + (completion is int c ? $" (trigram completion {c})" : " (no trigram)"),
                XLabel = "token", YLabel = "probability", Highlighted = completion is int h ? [h] : [], HighlightLabel = "trigram",
                LabelTop = 3,
            }, file, "prediction_distributions", $"Prediction after [{name}]", 800, 360);
            var top = probabilities.Select((p, t) => new TokenProbability(t, p)).OrderByDescending(x => x.Probability).Take(5).ToList();
            bool lastTokenGuess = trigrams.Trigrams.Any(t => t.B == prefix[^1] && t.C == top[0].Token);
            results.Add(new PredictionDistribution(prefix, completion, completion is int k ? probabilities[k] : null, top, lastTokenGuess, file));
        }
        return results;
    }

    // ---- 8. MLP Jacobians ------------------------------------------------------------------------------------

    MlpJacobianResults Jacobians(TrigramDataset dataset, ActivationCache cache)
    {
        var residMid = cache["resid_mid", 0];
        using var linear = LinearisedMlp.Evaluate(_model, dataset.Trigrams, residMid, cache["mlp_out", 0]);

        int checkRows = Math.Min(_options.JacobianCheckRows, (int)dataset.Size);
        // Tiled view as the published study: 10 rows × 25 positions, colour clipped to [−1, 1].
        int tileRows = Math.Min(10, (int)dataset.Size), tilePositions = Math.Min(25, _model.Cfg.n_ctx), d = _model.Cfg.d_model;
        var closed = MlpJacobian.ClosedForm(_model, 0, residMid[..Math.Max(checkRows, tileRows)]);   // [r, p, out, in], both uses
        var viaHooks = MlpJacobian.ViaHooks(_model, dataset.Tokens[..checkRows], 0);
        double maxDiff = (viaHooks - closed[..checkRows]).abs().max().item<float>();

        var tiles = closed[..tileRows, ..tilePositions].permute(0, 2, 1, 3).reshape(tileRows * d, tilePositions * d);
        Queue(new HeatmapFigure
        {
            Values = Figure.ToMatrix(tiles), Diverging = true, Range = (-1, 1), TileSize = d,
            Title = $"MLP Jacobians d resid_post / d resid_mid - I, clipped to [-1, 1]: one tile per (row, position)",
            XLabel = "position (tile columns: d_model in)", YLabel = "analysis row (tile rows: d_model out)", ColorBarLabel = "d out / d in",
            XTicks = Enumerable.Range(0, tilePositions).Select(p => (p * d + (d - 1) / 2.0, p.ToString())).ToList(),
            YTicks = Enumerable.Range(0, tileRows).Select(r => (r * d + (d - 1) / 2.0, r.ToString())).ToList(),
        }, "jacobian-tiles.png", "mlp_jacobian", "Every tile is one (row, position)'s Jacobian", 1400, 640);

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
        var cosines = PrincipalAngles.WriteReadCosines(_model.W_O[0, Head], _model.W_in[0]).data<float>().ToArray();
        var clipped = cosines.Select(c => Math.Clamp((double)c, -1, 1)).ToArray();
        Queue(new LineFigure
        {
            Lines = [new("cos θ", Enumerable.Range(0, cosines.Length).Select(i => (double)i).ToList(), clipped)],
            Title = "Principal angles: what the head writes (W_O) vs what the MLP reads (W_in)",
            XLabel = "principal direction", YLabel = "cos θ", YRange = (0, 1.05),
        }, "principal-angles.png", "principal_angles", "cos θ per principal direction", 800, 420);
        return new PrincipalAngleResults(cosines, clipped.Select(c => Math.Acos(c) * 180 / Math.PI).ToArray(), cosines.Count(c => c > 0.9));
    }

    // ---- 11. Residual variance ------------------------------------------------------------------------------

    ResidualVarianceResults ResidualVariance(ActivationCache cache)
    {
        var variance = cache["resid_mid", 0].var([0L, 1L], unbiased: true, keepdim: false).data<float>().ToArray();
        Queue(new BarFigure
        {
            Values = variance.Select(v => (double)v).ToList(),
            Title = "Variance of hook_resid_mid per dimension (all rows and positions)",
            XLabel = "residual dimension", YLabel = "variance",
        }, "residual-variance.png", "residual_variance", "Per-dimension variance of resid_mid", 800, 380);
        return new ResidualVarianceResults(variance, variance.Min(), variance.Max(), variance.Max() / variance.Min());
    }
}
