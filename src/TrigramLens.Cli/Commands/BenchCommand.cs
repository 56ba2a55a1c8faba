using System.CommandLine;
using Spectre.Console;
using TrigramLens.Benchmarks;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli.Commands;

/// <summary><c>trigramlens bench [--batch N] [--rounds N] [--steps N] [--long-steps N] [--threads N] [--json]</c></summary>
static class BenchCommand
{
    public static Command Build(CliOverrides overrides)
    {
        var batch = CommonOptions.Integer("--batch", "Batch size (default: the fast recipe's)", TrigramRecipe.Fast.BatchSize);
        var rounds = CommonOptions.Integer("--rounds", "Alternating rounds of library and reference steps", 5);
        var steps = CommonOptions.Integer("--steps", "Steps per round and implementation", 40);
        var longSteps = CommonOptions.Long("--long-steps", "Library steps between the two memory readings (0: skip)", 10_000, min: 0);
        var threads = CommonOptions.Threads();
        threads.Description = $"The library step's data-parallel shards, one thread each; the reference step gets as many libtorch threads (default: one per core, at most {TrainingThreads.MaxDefault})";
        var flush = CommonOptions.FlushDenormals();
        var json = CommonOptions.Json();
        var command = new Command("bench", "Training throughput: the library's step vs a naive reference step, and memory over a long run (`bench study`: the study's speed; `bench transcoder`, `bench figures`)")
        {
            batch, rounds, steps, longSteps, threads, flush, json,
            BenchStudyCommand.Build(overrides),
            BenchTranscoderCommand.Build(),
            BenchFiguresCommand.Build(),
        };
        command.SetAction(r =>
        {
            var options = new TrigramBenchmarkOptions(r.GetValue(batch), r.GetValue(rounds), r.GetValue(steps), r.GetValue(longSteps),
                Threads: r.GetValue(threads), FlushDenormals: r.GetValue(flush));
            bool asJson = r.GetValue(json);
            var report = TrigramBenchmark.Run(options, asJson ? null : new Progress<string>(line => Console.Out.WriteLine(line)));
            if (asJson) JsonOutput.Write(ToJson(report));
            else Render(report);
            return 0;
        });
        return command;
    }

    static object ToJson(TrainingBenchmarkReport r) => new
    {
        batch_size = r.BatchSize,
        shards = r.Shards,
        reference_threads = r.ReferenceThreads,
        library_targets_per_second = r.Library.Median,
        reference_targets_per_second = r.Reference.Median,
        ratio = r.MedianRatio,
        library_by_round = r.Library.TargetsPerSecondByRound,
        reference_by_round = r.Reference.TargetsPerSecondByRound,
        ratio_by_round = r.RatioByRound,
        long_run_steps = r.LongRunSteps,
        long_run_targets_per_second = r.LongRunSteps > 0 ? r.LongRunTargetsPerSecond : (double?)null,
        rss_before_bytes = r.RssBeforeBytes,
        rss_after_bytes = r.RssAfterBytes,
        matrix_kernels = r.MatrixKernels,
    };

    static void Render(TrainingBenchmarkReport r)
    {
        var table = new Table().Title($"[bold]training step, batch {r.BatchSize}: library {r.Shards} shard(s) × 1 thread, reference {r.ReferenceThreads} thread(s)[/]")
            .AddColumn("").AddColumn(new TableColumn("median").RightAligned()).AddColumn(new TableColumn("by round").RightAligned());
        static string Rounds(IEnumerable<double> xs, string format) => string.Join("  ", xs.Select(x => x.ToString(format, System.Globalization.CultureInfo.InvariantCulture)));
        table.AddRow("library (M target tok/s)", $"{r.Library.Median / 1e6:F3}", Rounds(r.Library.TargetsPerSecondByRound.Select(x => x / 1e6), "F2"));
        table.AddRow("reference (M target tok/s)", $"{r.Reference.Median / 1e6:F3}", Rounds(r.Reference.TargetsPerSecondByRound.Select(x => x / 1e6), "F2"));
        table.AddRow("ratio", $"{r.MedianRatio:F2}×", Rounds(r.RatioByRound, "F2"));
        if (r.LongRunSteps > 0)
        {
            table.AddRow($"library over {r.LongRunSteps:N0} steps", $"{r.LongRunTargetsPerSecond / 1e6:F3}", "");
            table.AddRow("RSS before → after", $"{r.RssBeforeBytes / 1048576.0:F1} → {r.RssAfterBytes / 1048576.0:F1} MiB",
                $"{(r.RssAfterBytes - r.RssBeforeBytes) / 1048576.0:+0.0;-0.0} MiB");
        }
        AnsiConsole.Write(table);
        Console.Out.WriteLine($"matrix products: {r.MatrixKernels}");   // one line, not wrapped to the table's width
    }
}
