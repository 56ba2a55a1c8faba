using TrigramLens.Training;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli.Tests;

/// <summary>Runs the CLI in-process with stdout and stderr captured. Console is global, hence one collection.</summary>
static class CliRunner
{
    public static (int exitCode, string stdout, string stderr) Run(params string[] args) => Run(CliOverrides.None, args);

    /// <summary>The same commands with some defaults replaced (<see cref="Small"/>: seconds instead of minutes).</summary>
    public static (int exitCode, string stdout, string stderr) Run(CliOverrides overrides, params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int code = CliApp.Run(args, overrides);
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    public static TrigramRecipe TinyRecipe { get; } = new()
    {
        Name = "tiny", DatasetSize = 1_100, TrainSize = 1_024, Epochs = 2, BatchSize = 128,
        Schedule = new WarmupCosineSchedule(1e-2, 2, 0.1), WeightDecay = 1e-3, Shuffle = true,
    };

    /// <summary>
    /// A recipe of 8 steps an epoch on 1,100 sequences, a 40-row analysis set and the Jacobian check on 2 rows: <c>study</c>
    /// and <c>train</c> go through all their code (data, training, checkpoints, metrics, every stage and file of the study)
    /// in seconds. What the full-size defaults give is the study's and the training's own tests' subject
    /// (TrigramLens.Trigrams.Tests); that the tool uses them, the checks here without overrides.
    /// </summary>
    public static CliOverrides Small { get; } = new(TinyRecipe, new StudyOptions { AnalysisSize = 40, JacobianCheckRows = 2 });
}

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;
