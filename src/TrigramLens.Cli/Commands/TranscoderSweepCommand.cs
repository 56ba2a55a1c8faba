using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TrigramLens.Checkpoints;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Training;
using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Cli.Commands;

/// <summary>
/// <c>trigramlens transcoder sweep --model PATH [--widths 256,512,1024] [--ks 1,2 | --l1s 0.1,0.3 | --l0s ...] [--skip] [--steps N]
/// [--train-seed S] [--seed 40] [--out DIR] [--threads N] [--json]</c>
/// </summary>
static class TranscoderSweepCommand
{
    public static Command Build()
    {
        var model = CommonOptions.Model(required: true);
        var actFn = CommonOptions.ActFn();
        var seed = CommonOptions.Seed();
        var widths = List<int>("--widths", "Widths to train, comma-separated", "256,512,1024,2048");
        var ks = List<int>("--ks", "TopK: k values, comma-separated (the default sparsity axis)", null);
        var l1s = List<double>("--l1s", "ReLU: L1 coefficients, comma-separated", null);
        var l0s = List<double>("--l0s", "JumpReLU: L0 coefficients, comma-separated", null);
        var skip = new Option<bool>("--skip") { Description = "With --ks, --l1s or --l0s: skip transcoders (the default transcoder has a skip path)" };
        var steps = CommonOptions.OptionalInteger("--steps", "Training steps of every run (default: the default transcoder's)");
        var trainSeed = CommonOptions.Integer("--train-seed", "Seed of every run's training", 0, min: 0);
        var normalization = CommonOptions.Normalization();
        var output = CommonOptions.OutputFolder("Folder for sweep.jsonl, sweep.md, the frontier figures and runs/NAME/ (each run's transcoder)",
            "trigramlens-transcoder-sweep");
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var command = new Command("sweep", "Train and analyse one transcoder per width × sparsity and draw the frontiers")
        {
            model, actFn, normalization, seed, widths, ks, l1s, l0s, skip, steps, trainSeed, output, threads, json,
        };
        command.Validators.Add(r =>
        {
            int[]? w, k;
            double[]? l1, l0;
            try
            {
                (w, k, l1, l0) = (r.GetValue(widths), NullIfEmpty(r.GetValue(ks)), NullIfEmpty(r.GetValue(l1s)), NullIfEmpty(r.GetValue(l0s)));
            }
            catch (InvalidOperationException)
            {
                return;   // a list that did not parse: its own error is reported
            }
            int axes = (k is null ? 0 : 1) + (l1 is null ? 0 : 1) + (l0 is null ? 0 : 1);
            if (axes > 1) r.AddError("give at most one of --ks, --l1s and --l0s");
            if (k is not null && w is { Length: > 0 } && k.Max() > w.Min()) r.AddError($"--ks {k.Max()} exceeds the smallest width {w.Min()}");
        });
        command.SetAction(r =>
        {
            var grid = Grid(r.GetValue(widths)!, NullIfEmpty(r.GetValue(ks)), NullIfEmpty(r.GetValue(l1s)), NullIfEmpty(r.GetValue(l0s)), r.GetValue(skip),
                r.GetValue(steps), r.GetValue(trainSeed));
            foreach (var o in grid) o.Validate();
            string path = r.GetValue(model)!.FullName;
            string directory = r.GetValue(output)!.FullName;
            bool asJson = r.GetValue(json);
            using var transformer = ModelCheckpoint.Load(path, CommonOptions.LoadOptions(r, actFn, normalization));
            using var dataset = TranscoderRun.AnalysisSet(transformer, r.GetValue(seed));
            using var stop = new StopOnCtrlC();
            var runs = TranscoderSweep.Run(transformer, dataset, grid, directory, TrainingThreads.Count(r.GetValue(threads)),
                asJson ? null : line => Console.Out.WriteLine(line), null, stop.Token);
            if (asJson) JsonOutput.Write(new { directory, runs });
            else
            {
                var table = new Table().Title($"[bold]{runs.Count} transcoders of {Markup.Escape(Path.GetFileName(path))}[/]")
                    .AddColumn("run").AddColumn(new TableColumn("owned").RightAligned()).AddColumn(new TableColumn("spliced").RightAligned())
                    .AddColumn(new TableColumn("FVU").RightAligned()).AddColumn(new TableColumn("L0").RightAligned()).AddColumn(new TableColumn("dead").RightAligned())
                    .AddColumn(new TableColumn("s").RightAligned());
                foreach (var run in runs)
                    table.AddRow(Markup.Escape(run.Name), $"{run.TrigramsOwned}/{run.Trigrams}", $"{run.SplicedCorrect}/{run.Trigrams}", run.Fvu.ToString("F4", CultureInfo.InvariantCulture),
                        run.L0.ToString("F2", CultureInfo.InvariantCulture), run.Dead.ToString(CultureInfo.InvariantCulture), run.WallSeconds.ToString("F1", CultureInfo.InvariantCulture));
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine($"table, frontiers and runs in {Markup.Escape(directory)}");
            }
            return 0;
        });
        return command;
    }

    internal static List<TranscoderTrainingOptions> Grid(int[] widths, int[]? ks, double[]? l1s, double[]? l0s, bool skip, int? steps, int trainSeed)
    {
        // An axis sets the architecture (with a skip path only with --skip); without one, the default transcoder's.
        bool axisGiven = ks is not null || l1s is not null || l0s is not null;
        var baseline = TranscoderRecipe.Default with { Seed = trainSeed, Skip = axisGiven ? skip : TranscoderRecipe.Default.Skip || skip };
        if (steps is int s) baseline = baseline with { Steps = s };
        IEnumerable<Func<TranscoderTrainingOptions, TranscoderTrainingOptions>> axis =
            ks is not null ? ks.Select(k => (Func<TranscoderTrainingOptions, TranscoderTrainingOptions>)(o => o with { Activation = TranscoderActivation.TopK, K = k }))
            : l1s is not null ? l1s.Select(l => (Func<TranscoderTrainingOptions, TranscoderTrainingOptions>)(o => o with { Activation = TranscoderActivation.Relu, L1 = l }))
            : l0s is not null ? l0s.Select(l => (Func<TranscoderTrainingOptions, TranscoderTrainingOptions>)(o => o with { Activation = TranscoderActivation.JumpRelu, L0 = l }))
            : [o => o];
        var axisList = axis.ToList();
        return widths.SelectMany(w => axisList.Select(f => f(baseline with { Width = w }))).ToList();
    }

    /// <summary>An absent list option reads as an empty array.</summary>
    static T[]? NullIfEmpty<T>(T[]? values) => values is { Length: > 0 } ? values : null;

    static Option<T[]?> List<T>(string name, string description, string? defaultValue) where T : IParsable<T>
    {
        var option = new Option<T[]?>(name)
        {
            Description = description + (defaultValue is null ? "" : $" (default {defaultValue})"),
            CustomParser = r => r.Tokens.Count > 0 ? Parse<T>(r.Tokens[0].Value, name, r) : defaultValue is null ? null : Parse<T>(defaultValue, name, r),
        };
        if (defaultValue is not null) option.DefaultValueFactory = r => Parse<T>(defaultValue, name, r);
        return option;
    }

    static T[]? Parse<T>(string text, string name, System.CommandLine.Parsing.ArgumentResult r) where T : IParsable<T>
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new List<T>();
        foreach (var part in parts)
        {
            if (!T.TryParse(part, CultureInfo.InvariantCulture, out var v) || Convert.ToDouble(v, CultureInfo.InvariantCulture) is var d && (d < 0 || !double.IsFinite(d))
                || typeof(T) == typeof(int) && Convert.ToInt32(v, CultureInfo.InvariantCulture) < 1)
            {
                r.AddError($"{name} must be a comma-separated list of {(typeof(T) == typeof(int) ? "positive integers" : "non-negative numbers")} (got '{text}')");
                return null;
            }
            values.Add(v);
        }
        if (values.Count == 0) r.AddError($"{name} needs at least one value");
        return [.. values];
    }
}
