using System.CommandLine;
using Spectre.Console;
using TrigramLens.Trigrams.Data;

namespace TrigramLens.Cli.Commands;

/// <summary><c>trigramlens dataset --seed S --size N --out FILE</c>: tokens as safetensors, trigrams as JSON beside.</summary>
static class DatasetCommand
{
    public static Command Build()
    {
        var seed = CommonOptions.Seed();
        var size = CommonOptions.Integer("--size", "Number of sequences", 2500, max: CommonOptions.MaxDatasetSize);
        var output = CommonOptions.OutputFile("Output safetensors file (the trigram list goes beside it, NAME.trigrams.json)", null);
        var json = CommonOptions.Json();
        var command = new Command("dataset", "Generate ARENA's trigram dataset and export it") { seed, size, output, json };
        command.SetAction(r =>
        {
            string path = r.GetValue(output)!.FullName;
            using var dataset = TrigramDataset.Generate(TrigramDataConfig.For(r.GetValue(seed)), r.GetValue(size));
            string trigramsPath = TrigramDatasetFile.Save(dataset, path);
            long occurrences = dataset.TrigramPositions().shape[0];
            if (r.GetValue(json))
                JsonOutput.Write(new { tokens = path, trigrams = trigramsPath, size = dataset.Size, seq_len = dataset.Config.SeqLen, n_trigrams = dataset.Trigrams.Count, trigram_positions = occurrences });
            else
                AnsiConsole.MarkupLine($"Wrote [bold]{dataset.Size}[/] × {dataset.Config.SeqLen} tokens to {Markup.Escape(path)} " +
                                       $"({dataset.Trigrams.Count} trigrams, {occurrences} prefix positions) and the trigram list to {Markup.Escape(trigramsPath)}");
            return 0;
        });
        return command;
    }
}
