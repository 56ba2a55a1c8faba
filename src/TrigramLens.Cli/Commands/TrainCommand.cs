using System.CommandLine;
using Spectre.Console;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli.Commands;

/// <summary><c>trigramlens train [--recipe fast|arena] [--seed 40] [--epochs N] [--out PATH] [--resume] [--threads N] [--json]</c></summary>
static class TrainCommand
{
    public static Command Build(CliOverrides overrides)
    {
        var recipe = CommonOptions.Recipe(overrides.Recipe);
        var seed = CommonOptions.Seed();
        var epochs = CommonOptions.OptionalInteger("--epochs", "Override the recipe's number of epochs");
        var output = CommonOptions.OutputFile("Model file (safetensors); beside it NAME.resume.safetensors, NAME.metrics.jsonl and NAME.curves.png",
            Path.Combine("trained", "model.safetensors"));
        var resume = new Option<bool>("--resume") { Description = "Continue from NAME.resume.safetensors if it exists (same recipe, seed and epochs)" };
        var threads = CommonOptions.Threads();
        var flush = CommonOptions.FlushDenormals();
        var json = CommonOptions.Json();
        var command = new Command("train", "Train the trigram model (ARENA's architecture) from scratch, with progress, checkpoints and resume")
        {
            recipe, seed, epochs, output, resume, threads, flush, json,
        };
        command.SetAction(r =>
        {
            var options = new TrigramTrainingOptions
            {
                Recipe = CommonOptions.RecipeNamed(r.GetValue(recipe)!, overrides.Recipe),
                Seed = r.GetValue(seed),
                Epochs = r.GetValue(epochs),
                OutputPath = r.GetValue(output)!.FullName,
                Resume = r.GetValue(resume),
                Threads = r.GetValue(threads),
                FlushDenormals = r.GetValue(flush),
            };
            using var stop = new StopOnCtrlC();
            var result = r.GetValue(json)
                ? TrigramTraining.Train(options, null, stop.Token)
                : TrainingProgressView.Run(progress => TrigramTraining.Train(options, progress, stop.Token));
            using (result.Model)
            {
                if (r.GetValue(json)) JsonOutput.Write(ToJson(result));
                else Render(result);
            }
            return result.Completed ? ExitCodes.Success : ExitCodes.Interrupted;
        });
        return command;
    }

    static object ToJson(TrainingResult r) => new
    {
        recipe = r.Recipe.Name,
        seed = r.Seed,
        completed = r.Completed,
        epochs = r.Recipe.Epochs,
        epochs_done = r.History.Count,
        wall_seconds = r.WallTime.TotalSeconds,
        final = r.Final is { } m ? new
        {
            epoch = m.Epoch,
            train_loss = m.TrainLoss,
            validation_loss = m.ValidationLoss,
            loss_as_fraction = m.LossAsFraction,
            trigram_accuracy = new { correct = m.TrigramCorrect, total = m.TrigramTotal, fraction = m.TrigramAccuracy },
            mean_correct_probability = m.MeanCorrectProbability,
            elapsed_seconds = m.ElapsedSeconds,
        } : null,
        files = r.Outputs is { } o ? new { model = o.Model, resume = o.Resume, metrics = o.Metrics, curves = o.Curves } : null,
    };

    static void Render(TrainingResult r)
    {
        var table = new Table().Title($"[bold]{(r.Completed ? "trained" : "stopped")}: {Markup.Escape(r.Recipe.Name)} recipe, seed {r.Seed}[/]")
            .AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        if (r.Final is { } m)
        {
            table.AddRow("epochs", $"{r.History.Count} / {r.Recipe.Epochs}");
            table.AddRow("trigram accuracy", $"{m.TrigramCorrect} / {m.TrigramTotal} ({m.TrigramAccuracy:P2})");
            table.AddRow("mean correct probability", $"{m.MeanCorrectProbability:F4}");
            table.AddRow("validation loss", $"{m.ValidationLoss:F4} (as fraction {m.LossAsFraction:F3})");
        }
        table.AddRow("wall time (this session)", $"{r.WallTime.TotalSeconds:F1} s");
        if (r.Outputs is { } o)
        {
            table.AddRow("model", Markup.Escape(o.Model));
            if (!r.Completed) table.AddRow("resume with", Markup.Escape("--resume (" + o.Resume + ")"));
            else table.AddRow("metrics / curves", Markup.Escape($"{Path.GetFileName(o.Metrics)}, {Path.GetFileName(o.Curves)}"));
        }
        AnsiConsole.Write(table);
    }
}
