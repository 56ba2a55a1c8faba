using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Training;
using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Cli.Commands;

/// <summary>
/// <c>trigramlens bench transcoder [--model PATH] [--rounds N] [--steps N] [--full] [--threads N] [--json]</c>: training positions/s
/// of the default transcoder (median of rounds), and with <c>--full</c> the wall time of its whole default training.
/// </summary>
static class BenchTranscoderCommand
{
    public static Command Build()
    {
        var model = CommonOptions.Model(required: false);
        model.Description += "; without one, an untrained model of the challenge's shape (speed does not depend on the weights)";
        var rounds = CommonOptions.Integer("--rounds", "Timed rounds (the median is reported)", 5);
        var steps = CommonOptions.Integer("--steps", "Training steps per round", 100);
        var actFn = CommonOptions.ActFn();
        var normalization = CommonOptions.Normalization();
        var full = new Option<bool>("--full") { Description = "Also time the default transcoder's whole training (as `trigramlens transcoder` runs it)" };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var command = new Command("transcoder", "Speed of transcoder training: positions/s of the default transcoder, and its training's wall time")
        {
            model, actFn, normalization, rounds, steps, full, threads, json,
        };
        command.SetAction(r =>
        {
            using var transformer = r.GetValue(model) is { } path
                ? ModelCheckpoint.Load(path.FullName, CommonOptions.LoadOptions(r, actFn, normalization))
                : new HookedTransformer(TrigramModelConfig.For(TrigramDataConfig.For(40), seed: 40));
            var trigrams = TrigramSet.Generate(new TorchSharp.torch.Generator(40), transformer.Cfg.d_vocab, TrigramDataConfig.For(40, transformer.Cfg).ResolvedTrigramCount);
            int workers = TrainingThreads.Count(r.GetValue(threads));
            bool asJson = r.GetValue(json);
            var options = TranscoderRecipe.Default;
            var perRound = new List<double>();
            for (int round = 0; round < r.GetValue(rounds); round++)
            {
                var result = TrigramTranscoderTraining.Train(transformer, trigrams, options with { Steps = r.GetValue(steps), Seed = round }, workers);
                result.Transcoder.Dispose();
                perRound.Add(result.PositionsPerSecond);
                if (!asJson) Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: {result.PositionsPerSecond / 1e6:F3} M positions/s ({result.WallSeconds:F2} s)"));
            }
            double? fullSeconds = null;
            if (r.GetValue(full))
            {
                var result = TrigramTranscoderTraining.Train(transformer, trigrams, options, workers);
                result.Transcoder.Dispose();
                fullSeconds = result.WallSeconds;
            }
            double median = Median(perRound);
            if (asJson) JsonOutput.Write(new
            {
                architecture = options.Activation.ToString().ToLowerInvariant(), width = options.Width, batch_size = options.BatchSize, threads = workers,
                positions_per_second = median, positions_per_second_by_round = perRound, default_steps = options.Steps,
                default_positions = (long)options.Steps * options.BatchSize, default_training_seconds = fullSeconds,
                estimated_default_training_seconds = (double)options.Steps * options.BatchSize / median,
            });
            else
            {
                var table = new Table().Title($"[bold]transcoder training: {options.Width} features, batch {options.BatchSize:N0}, {workers} thread(s)[/]")
                    .AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
                table.AddRow("positions/s (median of rounds)", $"{median / 1e6:F3} M");
                table.AddRow($"default training ({options.Steps:N0} steps × {options.BatchSize:N0}) at that speed", $"{options.Steps * (double)options.BatchSize / median:F1} s");
                if (fullSeconds is double s) table.AddRow("default training, measured", $"{s:F1} s");
                AnsiConsole.Write(table);
            }
            return 0;
        });
        return command;
    }

    static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
