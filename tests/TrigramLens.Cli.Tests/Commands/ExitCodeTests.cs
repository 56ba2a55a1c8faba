using TrigramLens.Testing;

namespace TrigramLens.Cli.Tests.Commands;

/// <summary>
/// The README's table of exit codes, command by command: bad arguments exit 2 with one line naming the option and
/// what it takes, before any work (nothing on stdout: no "Studying ...", no data generated); an unreadable input
/// exits 1; a bug exits 3.
/// </summary>
[Collection("Console")]
public sealed class ExitCodeTests() : TempDirectoryTests("trigramlens-exit-")
{
    static string Arena => ReferenceData.ArenaCheckpoint;

    public static TheoryData<string[], string> NotAnInteger => new()
    {
        { ["eval", "--size", "abc"], "--size must be an integer (got 'abc')" },
        { ["dataset", "--size", "abc", "--out", "x.safetensors"], "--size must be an integer (got 'abc')" },
        { ["study", "--rows", "abc"], "--rows must be an integer (got 'abc')" },
        { ["study", "--row", "1.5"], "--row must be an integer (got '1.5')" },
        { ["train", "--epochs", "abc"], "--epochs must be an integer (got 'abc')" },
        { ["train", "--seed", "x"], "--seed must be an integer (got 'x')" },
        { ["bench", "--steps", "abc"], "--steps must be an integer (got 'abc')" },
        { ["bench", "--long-steps", "1e3"], "--long-steps must be an integer (got '1e3')" },
        { ["bench", "study", "--rows", "many"], "--rows must be an integer (got 'many')" },
        { ["bench", "figures", "--figures", "many"], "--figures must be an integer (got 'many')" },
    };

    [Theory]
    [MemberData(nameof(NotAnInteger))]
    public void A_value_that_is_not_an_integer_is_one_line_naming_the_option(string[] args, string expected) =>
        AssertUsage(args, expected);

    [Fact]
    public void Study_arguments_that_cannot_fit_the_analysis_set_are_usage_errors_before_any_work()
    {
        AssertUsage(["study", "--rows", "100000"], "--rows must be an integer from 1 to 2,500 (got 100,000)");
        AssertUsage(["study", "--row", "-1"], "--row must be an integer from 0 to 2,499 (got -1)");
        AssertUsage(["study", "--row", "2500"], "--row must be an integer from 0 to 2,499 (got 2,500)");
    }

    [ArenaCheckpointFact]
    public void A_prefix_outside_the_models_vocabulary_is_a_usage_error_before_studying() =>
        AssertUsage(["study", "--model", Arena, "--out", Path.Combine(Dir, "s"), "--prefix", "1,99"], "--prefix 1,99 must hold 1 to 50 tokens in [0, 75)");

    [Fact]
    public void Without_a_model_a_bad_prefix_is_refused_before_training() =>
        AssertUsage(["study", "--out", Path.Combine(Dir, "s"), "--prefix", "1,99"], "--prefix 1,99 must hold 1 to 50 tokens in [0, 75)");

    [Fact]
    public void Output_paths_that_cannot_be_written_are_usage_errors_before_any_work()
    {
        string file = Path.Combine(Dir, "a-file");
        File.WriteAllText(file, "");
        AssertUsage(["study", "--out", file], $"--out '{file}' is a file; give a folder");
        AssertUsage(["train", "--out", Dir], $"--out '{Dir}' is a folder; give a file name");
        AssertUsage(["dataset", "--out", Path.Combine(file, "d.safetensors")], $"cannot be created: '{file}' is a file");
        if (Directory.Exists("/proc"))
        {
            AssertUsage(["study", "--out", "/proc/nope"], "--out '/proc/nope' cannot be written: '/proc' does not accept new files");
            AssertUsage(["train", "--out", "/proc/nope/m.safetensors"], "'/proc' does not accept new files");   // before generating any data
        }
    }

    [Fact]
    public void A_missing_checkpoint_and_a_folder_given_as_one_are_both_usage_errors()
    {
        AssertUsage(["eval", "--model", Path.Combine(Dir, "none.pt")], "does not exist");
        AssertUsage(["study", "--model", Dir], $"--model '{Dir}' is a folder; give a checkpoint file");
    }

    [Fact]
    public void An_unreadable_checkpoint_is_exit_code_1()
    {
        string path = Path.Combine(Dir, "text.pt");
        File.WriteAllText(path, "not a checkpoint at all, just text");
        var (code, _, stderr) = CliRunner.Run("study", "--model", path, "--out", Path.Combine(Dir, "s"));
        Assert.Equal(1, code);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains("text.pt", stderr);
    }

    [Fact]
    public void Act_fn_help_shows_the_values_as_they_are_typed()
    {
        var (code, stdout, _) = CliRunner.Run("eval", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--act-fn <relu|gelu>", stdout);
        Assert.DoesNotContain("Relu", stdout);
    }

    [Fact]
    public void A_bug_is_exit_code_3_in_one_line_and_the_stack_only_on_request()
    {
        Assert.Equal(2, CliApp.ExitCodeFor(new UsageException("x")));
        Assert.Equal(1, CliApp.ExitCodeFor(new TrigramLens.Checkpoints.CheckpointException("x")));
        Assert.Equal(130, CliApp.ExitCodeFor(new OperationCanceledException()));
        Assert.Null(CliApp.ExitCodeFor(new InvalidOperationException()));
    }

    static void AssertUsage(string[] args, string expected)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.True(code == 2, $"exit {code}: {stderr}");
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.DoesNotContain("System.", stderr);
        Assert.DoesNotContain("Int32", stderr);
        Assert.Equal("", stdout);
    }
}
