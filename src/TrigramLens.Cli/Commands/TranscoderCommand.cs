using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TrigramLens.Checkpoints;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Training;
using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Cli.Commands;

/// <summary>
/// <c>trigramlens transcoder --model PATH [--width N] [--k K | --l1 L | --l0 C] [--skip] [--steps N] [--train-seed S] [--seed 40]
/// [--out DIR] [--threads N] [--json]</c>, and <c>transcoder sweep</c>.
/// </summary>
static class TranscoderCommand
{
    /// <summary>The options that shape one transcoder, shared with <c>transcoder sweep</c> and <c>bench transcoder</c>.</summary>
    internal sealed class ShapeOptions
    {
        public Option<int?> Width { get; } = CommonOptions.OptionalInteger("--width", $"Features (d_sae; default {TranscoderRecipe.Default.Width})");
        public Option<int?> K { get; } = CommonOptions.OptionalInteger("--k", "TopK transcoder with k active features per position");
        public Option<double?> L1 { get; } = CommonOptions.OptionalNumber("--l1", "ReLU transcoder trained with this L1 coefficient λ (λ Σ f_i ‖W_dec,i‖)");
        public Option<double?> L0 { get; } = CommonOptions.OptionalNumber("--l0", "JumpReLU transcoder trained with this L0 coefficient");
        public Option<bool> Skip { get; } = new("--skip")
        {
            Description = "With --k, --l1 or --l0: add a linear skip path x W_skip^T (SAELens's skip transcoder); the default transcoder has one",
        };
        public Option<int?> Steps { get; } = CommonOptions.OptionalInteger("--steps", $"Training steps (default {TranscoderRecipe.Default.Steps:N0})");
        public Option<int?> Batch { get; } = CommonOptions.OptionalInteger("--batch", $"Positions per training step (default {TranscoderRecipe.Default.BatchSize:N0})");
        public Option<int> TrainSeed { get; } = CommonOptions.Integer("--train-seed", "Seed of the transcoder's initialisation, training data and shuffling", 0, min: 0);

        public IEnumerable<Option> All => [Width, K, L1, L0, Skip, Steps, Batch, TrainSeed];

        /// <summary>Checked by the parser: one sparsity choice at most, k within the width.</summary>
        public void AddValidators(Command command) => command.Validators.Add(r =>
        {
            Option[] sparsity = [K, L1, L0];
            if (sparsity.Count(o => r.GetResult(o) is not null) > 1) r.AddError("give at most one of --k, --l1 and --l0");
            int width;
            int? k;
            try
            {
                (width, k) = (r.GetValue(Width) ?? TranscoderRecipe.Default.Width, r.GetValue(K));
            }
            catch (InvalidOperationException)
            {
                return;   // a value that did not parse: its own error is reported
            }
            if (k > width) r.AddError($"--k {k} exceeds the width {width}");
        });

        /// <summary>The default transcoder, or, when --k, --l1 or --l0 is given, that architecture (with a skip path only
        /// with --skip).</summary>
        public TranscoderTrainingOptions Resolve(System.CommandLine.ParseResult r)
        {
            var o = TranscoderRecipe.Default with { Seed = r.GetValue(TrainSeed) };
            if (r.GetValue(K) is not null || r.GetValue(L1) is not null || r.GetValue(L0) is not null) o = o with { Skip = false };
            if (r.GetValue(Width) is int width) o = o with { Width = width };
            if (r.GetValue(Steps) is int steps) o = o with { Steps = steps };
            if (r.GetValue(Batch) is int batch) o = o with { BatchSize = batch, BufferPositions = Math.Max(o.BufferPositions, 2 * batch) };
            if (r.GetValue(K) is int k) o = o with { Activation = TranscoderActivation.TopK, K = k };
            if (r.GetValue(L1) is double l1) o = o with { Activation = TranscoderActivation.Relu, L1 = l1 };
            if (r.GetValue(L0) is double l0) o = o with { Activation = TranscoderActivation.JumpRelu, L0 = l0 };
            if (r.GetValue(Skip)) o = o with { Skip = true };
            if (o.Activation == TranscoderActivation.TopK && o.K > o.Width) o = o with { K = o.Width };
            return o;
        }
    }

    public static Command Build()
    {
        var model = CommonOptions.Model(required: true);
        var actFn = CommonOptions.ActFn();
        var seed = CommonOptions.Seed();
        var shape = new ShapeOptions();
        var normalization = CommonOptions.Normalization();
        var output = CommonOptions.OutputFolder("Folder for the transcoder (SAELens layout, in transcoder/), metrics.json, features.json, features.html and figures",
            "trigramlens-transcoder");
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var command = new Command("transcoder", "Train a sparse transcoder on the MLP (resid_mid → mlp_out), analyse its features and write them out")
        {
            model, actFn, normalization, seed, output, threads, json, TranscoderSweepCommand.Build(),
        };
        foreach (var option in shape.All) command.Options.Add(option);
        shape.AddValidators(command);
        command.SetAction(r =>
        {
            var options = shape.Resolve(r);
            options.Validate();
            string path = r.GetValue(model)!.FullName;
            string directory = r.GetValue(output)!.FullName;
            bool asJson = r.GetValue(json);
            var clock = Stopwatch.StartNew();
            using var transformer = ModelCheckpoint.Load(path, CommonOptions.LoadOptions(r, actFn, normalization));
            using var dataset = TranscoderRun.AnalysisSet(transformer, r.GetValue(seed));
            int workers = TrainingThreads.Count(r.GetValue(threads));
            using var stop = new StopOnCtrlC();
            TranscoderRunResults Run(IProgress<TranscoderProgress>? progress) => TranscoderRun.Train(transformer, path, dataset, options, directory, workers,
                progress, asJson ? null : t => AnsiConsole.MarkupLine($"trained in {t.WallSeconds:F1} s ({t.PositionsPerSecond / 1e6:F2} M positions/s); analysing on {dataset.Size:N0} sequences…"),
                stop.Token);
            var results = asJson ? Run(null) : TranscoderProgressView.Run(Run);
            if (asJson) JsonOutput.Write(results);
            else Render(results, directory, clock.Elapsed);
            return results.Training!.Completed ? ExitCodes.Success : ExitCodes.Interrupted;
        });
        return command;
    }

    static void Render(TranscoderRunResults a, string directory, TimeSpan elapsed)
    {
        var t = a.Training!;
        var table = new Table().Title($"[bold]{Markup.Escape(a.Transcoder.Architecture)}, {a.Transcoder.DSae} features{(a.Transcoder.K is int k ? $", k = {k}" : "")}[/]")
            .AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        table.AddRow("[bold]trigrams with a dedicated feature[/]", $"[bold]{a.Dedicated.TrigramsOwned} / {a.Dedicated.Trigrams}[/] ({a.Dedicated.DedicatedUnits} features)");
        table.AddRow("  … with a dedicated MLP neuron (baseline)", $"{a.NeuronBaseline.TrigramsOwned} / {a.NeuronBaseline.Trigrams}");
        table.AddRow("  … at most (the MLP's output alone)", $"{a.Dedicated.OwnableAtMost} / {a.Dedicated.Trigrams}");
        table.AddRow("trigram accuracy, transcoder spliced in", $"{a.Spliced.Spliced.Correct} / {a.Spliced.Spliced.Total} (the MLP: {a.Spliced.Clean.Correct}, mean-ablated: {a.Spliced.MeanAblated.Correct}, zero-ablated: {a.Spliced.ZeroAblated.Correct})");
        table.AddRow("FVU / explained variance", $"{a.Reconstruction.Fvu:F4} / {a.Reconstruction.ExplainedVariance:P2}");
        table.AddRow("L0 (active features per position)", $"{a.Reconstruction.L0:F3}");
        table.AddRow("dead / dense features", $"{a.Reconstruction.Dead} / {a.Reconstruction.Dense} of {a.Transcoder.DSae}");
        table.AddRow("loss: clean / spliced", $"{a.Spliced.Loss.Clean:F4} / {a.Spliced.Loss.Spliced:F4}");
        table.AddRow("loss recovered (vs mean / zero ablation)", $"{a.Spliced.Loss.RecoveredVsMeanAblation:P2} / {a.Spliced.Loss.RecoveredVsZeroAblation:P2}");
        table.AddRow("training", $"{t.Steps:N0} steps, {t.Positions:N0} positions, {t.WallSeconds:F1} s");
        table.AddRow("written to", Markup.Escape(directory));
        table.AddRow("total wall time", $"{elapsed.TotalSeconds:F1} s");
        AnsiConsole.Write(table);
    }
}
