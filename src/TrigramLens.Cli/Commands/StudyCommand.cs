using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Training;
using TrigramLens.Trigrams.Transcoders;
using TrigramLens.Transcoders;

namespace TrigramLens.Cli.Commands;

/// <summary><c>trigramlens study [--model PATH] [--out DIR] [--seed 40] [--rows N] [--row R] [--prefix a,b,...] [--train-epochs N] [--act-fn relu|gelu] [--normalization none|LN|LNPre] [--no-transcoder | --transcoder DIR]</c></summary>
static class StudyCommand
{
    public static Command Build(CliOverrides overrides)
    {
        var model = CommonOptions.Model(required: false);
        model.Description += "; without one, the default model is trained first (into the output folder, reused next time)";
        var output = CommonOptions.OutputFolder("Folder for the figures, results.json and report.html", "trigramlens-study");
        var seed = CommonOptions.Seed();
        var actFn = CommonOptions.ActFn();
        var normalization = CommonOptions.Normalization();
        var trainEpochs = CommonOptions.OptionalInteger("--train-epochs",
            "Without --model: train the default model for this many epochs instead of the recipe's (a quicker, weaker model)");
        var defaults = overrides.Study ?? new StudyOptions();
        int analysisRows = defaults.AnalysisSize;
        var rows = CommonOptions.Integer("--rows", "The first N analysis rows get attention and token-QK figures", 3, max: analysisRows);
        var row = CommonOptions.Integers("--row", "A further analysis row to draw, e.g. --row 1234 (repeatable)", 0, analysisRows - 1);
        var prefixes = new Option<string[]>("--prefix")
        {
            Description = "Extra prefix whose next-token distribution is plotted, e.g. --prefix 3,14,15 (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        prefixes.Validators.Add(r =>
        {
            foreach (var p in r.GetValueOrDefault<string[]>() ?? [])
                if (ParsePrefix(p) is null) r.AddError($"--prefix '{p}' must be comma-separated token ids, e.g. 1,74,72");
        });

        var noTranscoder = new Option<bool>("--no-transcoder") { Description = "Skip section 9, the sparse transcoder of the MLP" };
        var transcoder = new Option<DirectoryInfo?>("--transcoder")
        {
            Description = "Study this transcoder (a SAELens folder, e.g. from `trigramlens transcoder`) instead of training the default one",
        };
        transcoder.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<DirectoryInfo?>() is { } d && !File.Exists(Path.Combine(d.FullName, TranscoderFile.ConfigFile)))
                r.AddError($"--transcoder '{d.FullName}' is not a transcoder folder (no {TranscoderFile.ConfigFile} in it)");
        });

        var command = new Command("study", "Run the whole trigram study and write figures, results.json and report.html")
        {
            model, output, seed, rows, row, prefixes, trainEpochs, actFn, normalization, noTranscoder, transcoder,
        };
        command.Validators.Add(r =>
        {
            if (r.GetResult(noTranscoder) is not null && r.GetResult(transcoder) is not null) r.AddError("give --no-transcoder or --transcoder, not both");
        });
        command.SetAction(r =>
        {
            var options = defaults with
            {
                OutputDirectory = r.GetValue(output)!.FullName,
                Seed = r.GetValue(seed),
                Rows = r.GetValue(rows),
                ExtraRows = r.GetValue(row) ?? [],
                ExtraPrefixes = (r.GetValue(prefixes) ?? []).Select(p => ParsePrefix(p)!).ToList(),
            };
            var clock = Stopwatch.StartNew();
            var (transformer, source, training) = LoadOrTrain(r.GetValue(model), CommonOptions.LoadOptions(r, actFn, normalization), r.GetValue(trainEpochs), options,
                overrides.Recipe);
            options = options with
            {
                Training = training,
                Transcoder = r.GetValue(noTranscoder) ? null : new TranscoderSectionOptions(
                    TranscoderDirectory: r.GetValue(transcoder)?.FullName,
                    ModelPath: r.GetValue(model)?.FullName ?? DefaultStudyModel.PathFor(options.OutputDirectory, options.Seed, r.GetValue(trainEpochs)),
                    KeepDirectory: options.OutputDirectory,
                    Threads: TrainingThreads.Count(null),
                    Progress: TranscoderProgressView.PlainLines("    transcoder: ")),
            };
            using (transformer)
            {
                AnsiConsole.MarkupLine($"Studying [bold]{Markup.Escape(source)}[/] → {Markup.Escape(options.OutputDirectory)}");
                var results = TrigramStudy.Run(transformer, source, options, stage =>
                    AnsiConsole.MarkupLine($"  [green]✓[/] [[{stage.Index}/{stage.Count}]] {Markup.Escape(stage.Name)} [grey]({stage.Elapsed.TotalSeconds:F2} s)[/]"));
                RenderSummary(results, options.OutputDirectory, clock.Elapsed);
            }
            return 0;
        });
        return command;
    }

    /// <summary>What the study needs of a model's shape and vocabulary, checked before any training or analysis.</summary>
    static void CheckFits(HookedTransformerConfig cfg, StudyOptions options, string source)
    {
        try
        {
            TrigramStudy.EnsureSupported(cfg);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}");
        }
        try
        {
            options.ResolvePrefixes(cfg);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--{e.Message}");
        }
    }

    static (HookedTransformer model, string source, TrainingSummary? training) LoadOrTrain(FileInfo? path, CheckpointLoadOptions load, int? epochs, StudyOptions options,
        TrigramRecipe? recipe)
    {
        if (path is not null)
        {
            var loaded = ModelCheckpoint.Load(path.FullName, load);
            try
            {
                CheckFits(loaded.Cfg, options, $"'{path.FullName}'");
            }
            catch
            {
                loaded.Dispose();
                throw;
            }
            return (loaded, path.FullName, null);
        }

        CheckFits(TrigramModelConfig.For(TrigramDataConfig.For(options.Seed), options.Seed), options, "the default model");
        string modelPath = DefaultStudyModel.PathFor(options.OutputDirectory, options.Seed, epochs);
        using var stop = new StopOnCtrlC();
        var model = DefaultStudyModel.LoadOrTrain(options.OutputDirectory, options.Seed, epochs, training =>
        {
            AnsiConsole.MarkupLine($"No --model given: training the default ({training.EffectiveRecipe.Name}) model, seed {training.Seed} → {Markup.Escape(modelPath)}");
            return TrainingProgressView.Run(progress => TrigramTraining.Train(training, progress, stop.Token));
        }, recipe);
        if (model.Reused)
            AnsiConsole.MarkupLine($"No --model given: reusing the default model trained earlier, {Markup.Escape(modelPath)} " +
                                   $"({model.Training.TrigramCorrect}/{model.Training.TrigramTotal} trigrams)");
        return (model.Model, model.Source, model.Training);
    }

    internal static int[]? ParsePrefix(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var tokens = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out tokens[i]) || tokens[i] < 0) return null;
        return tokens.Length > 0 ? tokens : null;
    }

    static void RenderSummary(StudyResults r, string directory, TimeSpan elapsed)
    {
        var table = new Table().AddColumn("result").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("model trigram accuracy", r.Metrics.TrigramAccuracy.ToString());
        table.AddRow("mean correct probability", $"{r.Metrics.MeanCorrectProbability:F4}");
        table.AddRow("loss (as fraction)", $"{r.Metrics.Loss:F4} ({r.Metrics.LossAsFraction:F4})");
        table.AddRow("previous-token attention at prefixes (median)", $"{r.Attention.PreviousTokenAttention.Median:F3}");
        table.AddRow("token-pair map: hottest key is a prefix", r.TokenPairMap.RowsWhoseHottestKeyIsAPrefix.ToString());
        table.AddRow("simplified model accuracy", r.SimplifiedModel.Accuracy.ToString());
        table.AddRow("DLA of resid_mid", r.DirectLogitAttribution.ResidMid.ToString());
        table.AddRow("DLA + mean-ablated MLP", r.DirectLogitAttribution.ResidMidWithMeanAblatedMlp.ToString());
        table.AddRow("linearised MLP accuracy", r.MlpJacobian.LinearisedAccuracy.ToString());
        table.AddRow("principal angles with cos θ > 0.9", $"{r.PrincipalAngles.DimensionsAbove09} / {r.PrincipalAngles.Cosines.Length}");
        table.AddRow("resid_mid variance max / min", $"{r.ResidualVariance.MaxOverMin:F2}");
        if (r.Transcoder is { } t)
        {
            table.AddRow("transcoder: trigrams with a dedicated feature", $"{t.Dedicated.TrigramsOwned} / {t.Dedicated.Trigrams} (neurons: {t.NeuronBaseline.TrigramsOwned})");
            table.AddRow("  … at most (the MLP's output alone)", $"{t.Dedicated.OwnableAtMost} / {t.Dedicated.Trigrams}");
            table.AddRow("transcoder spliced in: trigram accuracy", t.Spliced.Spliced.ToString());
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Wrote {r.Figures.Count} figures, results.json and [bold]{Markup.Escape(Path.Combine(directory, "report.html"))}[/] in {elapsed.TotalSeconds:F1} s.");
    }
}
