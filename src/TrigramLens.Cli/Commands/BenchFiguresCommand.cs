using System.CommandLine;
using Spectre.Console;
using TrigramLens.Benchmarks;

namespace TrigramLens.Cli.Commands;

/// <summary><c>trigramlens bench figures [--rounds N] [--figures N] [--json]</c>: milliseconds per figure, ScottPlot's PNG
/// export against ours, in the same process (docs/figures.md).</summary>
static class BenchFiguresCommand
{
    public static Command Build()
    {
        var rounds = CommonOptions.Integer("--rounds", "Alternating rounds of both exports (the medians are compared)", 3);
        var figures = CommonOptions.Integer("--figures", "Figures per round and export", 40);
        var json = CommonOptions.Json();
        var command = new Command("figures", "Speed of figure export: ScottPlot's PNG export against ours, on an attention figure") { rounds, figures, json };
        command.SetAction(r =>
        {
            bool asJson = r.GetValue(json);
            var report = FigureBenchmark.Run(r.GetValue(rounds), r.GetValue(figures), asJson ? null : new Progress<string>(line => Console.Out.WriteLine(line)));
            if (asJson) JsonOutput.Write(new
            {
                width = report.Width, height = report.Height, figures_per_round = report.FiguresPerRound,
                scottplot_ms_by_round = report.ScottPlotMs, ours_ms_by_round = report.OursMs,
                scottplot_ms = report.MedianScottPlotMs, ours_ms = report.MedianOursMs, speedup = report.Speedup,
                scottplot_bytes = report.ScottPlotBytes, ours_bytes = report.OursBytes,
            });
            else
            {
                var table = new Table().Title($"[bold]figure export, {report.Width} × {report.Height} attention figure[/]")
                    .AddColumn("").AddColumn(new TableColumn("ms per figure (median)").RightAligned()).AddColumn(new TableColumn("file").RightAligned());
                table.AddRow("ScottPlot's PNG export", $"{report.MedianScottPlotMs:F1}", $"{report.ScottPlotBytes / 1024.0:F0} KiB");
                table.AddRow("ours (no PNG row filters)", $"{report.MedianOursMs:F1}", $"{report.OursBytes / 1024.0:F0} KiB");
                table.AddRow("[bold]speed-up[/]", $"[bold]{report.Speedup:F2}×[/]", "");
                AnsiConsole.Write(table);
            }
            return 0;
        });
        return command;
    }
}
