using System.CommandLine;
using Spectre.Console;
using TrigramLens.Trigrams.Data;

namespace TrigramLens.Cli.Commands;

/// <summary><c>trigramlens trigrams [--seed 40] [--json]</c>: the planted trigrams, sorted by second element.</summary>
static class TrigramsCommand
{
    public static Command Build()
    {
        var seed = CommonOptions.Seed();
        var json = CommonOptions.Json();
        var command = new Command("trigrams", "The trigram set of a seed, sorted by second element") { seed, json };
        command.SetAction(r =>
        {
            using var dataset = TrigramDataset.Generate(TrigramDataConfig.For(r.GetValue(seed)), size: 0);
            var sorted = dataset.Trigrams.SortedBySecond();
            if (r.GetValue(json))
            {
                JsonOutput.Write(new
                {
                    seed = r.GetValue(seed),
                    d_vocab = dataset.Config.DVocab,
                    n_trigrams = sorted.Count,
                    trigrams = sorted.Select(t => new[] { t.A, t.B, t.C }),
                });
                return 0;
            }
            var table = new Table().Title($"[bold]{sorted.Count} trigrams, seed {r.GetValue(seed)}, sorted by second element[/]")
                .AddColumn(new TableColumn("a").RightAligned()).AddColumn(new TableColumn("b").RightAligned()).AddColumn(new TableColumn("→ c").RightAligned());
            foreach (var t in sorted) table.AddRow(t.A.ToString(), t.B.ToString(), t.C.ToString());
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
