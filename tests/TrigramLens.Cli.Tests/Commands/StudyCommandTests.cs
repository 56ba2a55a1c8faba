using System.Text.Json;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli.Tests.Commands;

[Collection("Console")]
public sealed class StudyCommandTests() : TempDirectoryTests("trigramlens-cli-study-")
{
    [ArenaCheckpointFact]
    public void Study_of_a_checkpoint_writes_report_results_and_figures()
    {
        var (code, stdout, stderr) = CliRunner.Run("study", "--model", ReferenceData.RequireArenaCheckpoint(), "--out", Dir, "--rows", "1", "--prefix", "3,14,15");
        Assert.True(code == 0, stderr);
        Assert.Contains("[12/12]", stdout);
        Assert.Contains("266 / 277", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "results.json")));
        var figures = json.RootElement.GetProperty("figures").EnumerateArray().Select(f => f.GetProperty("file").GetString()!).ToList();
        Assert.Contains("prediction-3-14-15.png", figures);
        Assert.All(figures, f => Assert.True(File.Exists(Path.Combine(Dir, f)), f));
        Assert.Contains("<h2>8. MLP Jacobians</h2>", File.ReadAllText(Path.Combine(Dir, "report.html")));
    }

    [Fact]
    public void Study_without_a_model_trains_one_first_and_reuses_it_next_time()
    {
        var (code, stdout, stderr) = CliRunner.Run("study", "--out", Dir, "--train-epochs", "1", "--rows", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("training the default", stdout);
        string model = Path.Combine(Dir, "model-seed40-epochs1.safetensors");
        Assert.True(File.Exists(model));
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "results.json"))))
        {
            var training = json.RootElement.GetProperty("model").GetProperty("training");
            Assert.Equal(1, training.GetProperty("epochs").GetInt32());
            Assert.Equal(training.GetProperty("trigram_correct").GetInt32(),
                json.RootElement.GetProperty("metrics").GetProperty("trigram_accuracy").GetProperty("correct").GetInt32());
        }
        Assert.Contains("0. Training", File.ReadAllText(Path.Combine(Dir, "report.html")));

        var written = File.GetLastWriteTimeUtc(model);
        (code, stdout, stderr) = CliRunner.Run("study", "--out", Dir, "--train-epochs", "1", "--rows", "1");
        Assert.True(code == 0, stderr);
        Assert.Equal(written, File.GetLastWriteTimeUtc(model));   // the finished model was reused, not retrained
        Assert.Contains("reusing the default model trained earlier", stdout);
        Assert.DoesNotContain("generating", stdout);               // and no training data was generated for it
        Assert.DoesNotContain("resuming", stdout);

        // A model left by a version whose fast recipe differed (here in its shards) is trained again, not refused.
        TrigramTraining.Train(new TrigramTrainingOptions { Recipe = TrigramRecipe.Fast with { Shards = 3 }, Epochs = 1, OutputPath = model }).Model.Dispose();
        written = File.GetLastWriteTimeUtc(model);
        (code, stdout, stderr) = CliRunner.Run("study", "--out", Dir, "--train-epochs", "1", "--rows", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("earlier definition of the fast recipe: training again from scratch", stdout);
        Assert.NotEqual(written, File.GetLastWriteTimeUtc(model));
    }

    [Fact]
    public void Bench_study_times_both_jacobian_methods_on_the_same_rows_and_the_whole_study()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "study", "--rows", "3", "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(3 * 50, root.GetProperty("jacobians").GetInt32());
        Assert.True(root.GetProperty("max_abs_difference").GetDouble() < 1e-5);
        Assert.Equal(root.GetProperty("autograd_seconds").GetDouble() / root.GetProperty("closed_form_seconds").GetDouble(),
            root.GetProperty("speedup").GetDouble(), 6);
        Assert.True(root.GetProperty("study_seconds").GetDouble() > 0);
    }

    [Theory]
    [InlineData("--prefix", "1,x")]
    [InlineData("--rows", "0")]
    public void Bad_study_arguments_are_usage_errors(string option, string value)
    {
        var (code, _, stderr) = CliRunner.Run("study", option, value);
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
    }
}
