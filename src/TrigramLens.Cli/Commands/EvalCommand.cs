using System.CommandLine;
using Spectre.Console;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;

namespace TrigramLens.Cli.Commands;

/// <summary><c>trigramlens eval --model PATH [--seed 40] [--size 2500] [--json]</c></summary>
static class EvalCommand
{
    public static Command Build()
    {
        var model = CommonOptions.Model(required: true);
        var seed = CommonOptions.Seed();
        var size = CommonOptions.Integer("--size", "Sequences in the evaluation dataset (for the loss)", 2500, max: CommonOptions.MaxDatasetSize);
        var json = CommonOptions.Json();
        var actFn = CommonOptions.ActFn();
        var normalization = CommonOptions.Normalization();
        var command = new Command("eval", "Trigram accuracy, mean correct probability and loss of a model") { model, seed, size, actFn, normalization, json };
        command.SetAction(r =>
        {
            string path = r.GetValue(model)!.FullName;
            using var transformer = ModelCheckpoint.Load(path, CommonOptions.LoadOptions(r, actFn, normalization));
            using var dataset = TrigramDataset.Generate(TrigramDataConfig.For(r.GetValue(seed), transformer.Cfg), r.GetValue(size));
            var metrics = TrigramModelMetrics.Evaluate(transformer, dataset);
            if (r.GetValue(json)) JsonOutput.Write(new { model = path, seed = r.GetValue(seed), dataset_size = r.GetValue(size), metrics = MetricsJson.From(metrics) });
            else Render(path, metrics);
            return 0;
        });
        return command;
    }

    static void Render(string path, TrigramModelMetrics m)
    {
        var table = new Table().Title($"[bold]{Markup.Escape(Path.GetFileName(path))}[/]").AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("trigram accuracy", $"{m.Accuracy.Correct} / {m.Accuracy.Total} ({m.Accuracy.Fraction:P2})");
        table.AddRow("mean correct probability", $"{m.MeanCorrectProbability:F4}");
        table.AddRow("loss", $"{m.Loss:F4}");
        table.AddRow("loss as fraction", $"{m.LossAsFraction:F4}");
        AnsiConsole.Write(table);
        if (m.Accuracy.Misses.Count > 0)
            AnsiConsole.MarkupLine("misses (a, b → c, predicted): " + Markup.Escape(string.Join("  ", m.Accuracy.Misses.Select(x => $"{x.A},{x.B}→{x.C} ({x.Predicted})"))));
    }
}
