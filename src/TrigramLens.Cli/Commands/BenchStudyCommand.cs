using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TrigramLens.Benchmarks;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli.Commands;

/// <summary>
/// <c>trigramlens bench study [--model PATH] [--rows N] [--json]</c>: MLP Jacobians in closed form against autograd
/// through hooks (the published study's way) on the same rows, and the wall time of the whole study.
/// </summary>
static class BenchStudyCommand
{
    public static Command Build()
    {
        var model = CommonOptions.Model(required: false);
        model.Description += "; without one, an untrained model of the challenge's shape (timings do not depend on the weights)";
        var rows = CommonOptions.Integer("--rows", "Analysis rows whose Jacobians both ways compute (50 positions each)", 100, max: 2500);
        var json = CommonOptions.Json();
        var actFn = CommonOptions.ActFn();
        var normalization = CommonOptions.Normalization();
        var command = new Command("study", "Speed of the study: closed-form vs autograd MLP Jacobians, and the whole study's wall time") { model, rows, actFn, normalization, json };
        command.SetAction(r =>
        {
            using var transformer = r.GetValue(model) is { } path
                ? ModelCheckpoint.Load(path.FullName, CommonOptions.LoadOptions(r, actFn, normalization))
                : new HookedTransformer(TrigramModelConfig.For(TrigramDataConfig.For(40), seed: 40));
            bool asJson = r.GetValue(json);

            using var dataset = TrigramDataset.Generate(TrigramDataConfig.For(40, transformer.Cfg), r.GetValue(rows));
            const int repetitions = 3;
            var jacobians = MlpJacobianBenchmark.Run(transformer, dataset.Tokens, repetitions: repetitions);

            string directory = Directory.CreateTempSubdirectory("trigramlens-bench-").FullName;
            try
            {
                var clock = Stopwatch.StartNew();
                var study = new StudyOptions { OutputDirectory = directory };
                TrigramStudy.Run(transformer, "bench", study);
                double studySeconds = clock.Elapsed.TotalSeconds;
                if (asJson) JsonOutput.Write(new
                {
                    jacobians = jacobians.Jacobians,
                    autograd_seconds = jacobians.AutogradSeconds,
                    closed_form_seconds = jacobians.ClosedFormSeconds,
                    closed_form_factors_seconds = jacobians.FactorsSeconds,
                    speedup = jacobians.Speedup,
                    factors_speedup = jacobians.FactorsSpeedup,
                    max_abs_difference = jacobians.MaxAbsDifference,
                    study_seconds = studySeconds,
                });
                else Render(jacobians, repetitions, studySeconds, study.AnalysisSize);
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
            return 0;
        });
        return command;
    }

    static void Render(MlpJacobianTimings j, int repetitions, double studySeconds, int studyRows)
    {
        var table = new Table().Title($"[bold]MLP Jacobians of {j.Jacobians:N0} (row, position) pairs, best of {repetitions}[/]")
            .AddColumn("").AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("vs autograd").RightAligned());
        table.AddRow("autograd through hooks (as the published study)", $"{j.AutogradSeconds:F4}", "1×");
        table.AddRow("closed form, materialised [[rows, pos, d, d]]", $"{j.ClosedFormSeconds:F4}", $"{j.Speedup:F0}× faster");
        table.AddRow("closed form, factored (slopes · rank-one maps)", $"{j.FactorsSeconds:F5}", $"{j.FactorsSpeedup:F0}× faster");
        table.AddRow("largest disagreement", $"{j.MaxAbsDifference:0.0e+0}", "");
        table.AddRow($"[bold]whole study[/] ({studyRows:N0} rows, every figure)", $"{studySeconds:F2}", "");
        AnsiConsole.Write(table);
    }
}
