using System.Text.Json;
using TrigramLens.Testing;

namespace TrigramLens.Cli.Tests.Commands;

[Collection("Console")]
public sealed class TrainCommandTests() : TempDirectoryTests("trigramlens-train-cli-")
{
    // With a small recipe as the default (CliRunner.Small): a real epoch of the fast one takes a minute. That the
    // tool's default is fast is checked at the end, where a resume is refused before any data is generated.
    [Fact]
    public void Train_logs_plain_lines_when_redirected_writes_a_model_eval_reads_and_resume_finds_it_done()
    {
        string model = Path.Combine(Dir, "m.safetensors");
        var (code, stdout, stderr) = CliRunner.Run(CliRunner.Small, "train", "--epochs", "1", "--out", model, "--threads", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("generating 1,100 sequences", stdout);
        Assert.Contains("epoch   1/1: train loss", stdout);
        Assert.DoesNotContain("\u001b[", stdout);   // no terminal control codes in a log

        var (evalCode, evalOut, _) = CliRunner.Run("eval", "--model", model, "--size", "100", "--json");
        Assert.Equal(0, evalCode);
        int evaluated = JsonDocument.Parse(evalOut).RootElement.GetProperty("metrics").GetProperty("trigram_accuracy").GetProperty("correct").GetInt32();
        Assert.True(evaluated > 0, "the small model must get some trigrams right, or the comparison below proves little");

        var (resumeCode, resumeOut, _) = CliRunner.Run(CliRunner.Small, "train", "--epochs", "1", "--out", model, "--threads", "2", "--resume", "--json");
        Assert.Equal(0, resumeCode);
        var json = JsonDocument.Parse(resumeOut).RootElement;
        Assert.True(json.GetProperty("completed").GetBoolean());
        Assert.Equal(1, json.GetProperty("epochs_done").GetInt32());
        Assert.Equal(evaluated, json.GetProperty("final").GetProperty("trigram_accuracy").GetProperty("correct").GetInt32());
        Assert.True(File.Exists(json.GetProperty("files").GetProperty("curves").GetString()));

        // Resuming with another epoch count is refused before any data is generated, naming what differs.
        var (otherCode, otherOut, otherErr) = CliRunner.Run(CliRunner.Small, "train", "--epochs", "2", "--out", model, "--threads", "2", "--resume");
        Assert.Equal(2, otherCode);
        Assert.Contains("(1 epoch, not 2)", otherErr);
        Assert.DoesNotContain("generating", otherOut);

        // So is resuming it with the tool's default recipe, which is fast.
        (otherCode, otherOut, otherErr) = CliRunner.Run("train", "--epochs", "1", "--out", model, "--threads", "2", "--resume");
        Assert.Equal(2, otherCode);
        Assert.Contains("(recipe tiny, not fast)", otherErr);
        Assert.DoesNotContain("generating", otherOut);
    }

    [Fact]
    public void Bench_figures_reports_both_exports_by_round_and_the_ratio_of_their_medians()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "figures", "--rounds", "3", "--figures", "1", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        double[] Rounds(string key) => json.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).Order().ToArray();
        double[] theirs = Rounds("scottplot_ms_by_round"), ours = Rounds("ours_ms_by_round");
        Assert.Equal(3, theirs.Length);
        Assert.Equal(3, ours.Length);
        Assert.Equal(theirs[1], json.GetProperty("scottplot_ms").GetDouble());
        Assert.Equal(ours[1], json.GetProperty("ours_ms").GetDouble());
        Assert.Equal(theirs[1] / ours[1], json.GetProperty("speedup").GetDouble(), 12);
    }

    [Fact]
    public void Bench_reports_both_throughputs_their_ratio_and_memory()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "--batch", "8", "--rounds", "2", "--steps", "2", "--long-steps", "3", "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        double library = json.GetProperty("library_targets_per_second").GetDouble();
        double reference = json.GetProperty("reference_targets_per_second").GetDouble();
        Assert.True(library > 0 && reference > 0);
        Assert.Equal(2, json.GetProperty("ratio_by_round").GetArrayLength());
        // Each round's ratio is that round's two throughputs; the reported figures are medians of the rounds.
        double[] Rounds(string key) => json.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        double[] libraryRounds = Rounds("library_by_round"), referenceRounds = Rounds("reference_by_round"), ratios = Rounds("ratio_by_round");
        for (int i = 0; i < 2; i++) Assert.Equal(libraryRounds[i] / referenceRounds[i], ratios[i], 12);
        Assert.Equal(libraryRounds.Average(), library, 6);   // the median of two rounds is their mean
        Assert.Equal(ratios.Average(), json.GetProperty("ratio").GetDouble(), 12);
        Assert.True(json.GetProperty("long_run_targets_per_second").GetDouble() > 0);
        Assert.Equal(1, json.GetProperty("shards").GetInt32());   // not the default on 2 or more cores
        Assert.True(json.GetProperty("rss_before_bytes").GetInt64() > 1 << 20);
        Assert.True(json.GetProperty("rss_after_bytes").GetInt64() > 1 << 20);
        Assert.StartsWith("MKL's", json.GetProperty("matrix_kernels").GetString());
    }

    [Theory]
    [InlineData(new[] { "train", "--recipe", "slow" }, "slow")]
    [InlineData(new[] { "train", "--epochs", "0" }, "--epochs must be a positive integer")]
    [InlineData(new[] { "train", "--threads", "0" }, "--threads must be a positive integer")]
    [InlineData(new[] { "bench", "--long-steps", "-1" }, "--long-steps must be an integer of at least 0 (got -1)")]
    public void Bad_arguments_are_one_line_and_exit_code_2(string[] args, string expected)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Equal("", stdout);
    }
}
