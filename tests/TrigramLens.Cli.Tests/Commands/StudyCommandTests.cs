using System.Text.Json;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Training;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Training;
using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Cli.Tests.Commands;

[Collection("Console")]
public sealed class StudyCommandTests() : TempDirectoryTests("trigramlens-cli-study-")
{
    [ArenaCheckpointFact]
    public void Study_of_a_checkpoint_writes_report_results_and_figures_with_a_given_transcoder_as_section_9()
    {
        string arena = ReferenceData.RequireArenaCheckpoint(), transcoder = Path.Combine(Dir, "given.transcoder"), output = Path.Combine(Dir, "study");
        using (var model = ModelCheckpoint.Load(arena, TrigramModelConfig.CheckpointOptions))
        using (var data = TrigramDataset.Generate(TrigramDataConfig.For(40, model.Cfg), 10))
        {
            var tiny = TranscoderRecipe.Default with { Width = 24, Steps = 3, BatchSize = 512, BufferPositions = 2048 };
            using var trained = TrigramTranscoderTraining.Train(model, data.Trigrams, tiny).Transcoder;
            TranscoderFile.Save(trained, transcoder);
        }

        var (code, stdout, stderr) = CliRunner.Run(CliRunner.Small, "study", "--model", arena, "--out", output, "--rows", "1", "--prefix", "3,14,15", "--transcoder", transcoder);
        Assert.True(code == 0, stderr);
        Assert.Contains("[13/13]", stdout);
        Assert.Contains("266 / 277", stdout);
        Assert.Contains("transcoder: trigrams with a dedicated feature", stdout);
        Assert.Contains("at most (the MLP's output alone)", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var figures = json.RootElement.GetProperty("figures").EnumerateArray().Select(f => f.GetProperty("file").GetString()!).ToList();
        Assert.Contains("prediction-3-14-15.png", figures);
        Assert.Contains(figures, f => f.StartsWith("transcoder-", StringComparison.Ordinal));
        Assert.All(figures, f => Assert.True(File.Exists(Path.Combine(output, f)), f));
        var section = json.RootElement.GetProperty("transcoder");
        Assert.Equal("given", section.GetProperty("source").GetString());
        Assert.Equal(24, section.GetProperty("transcoder").GetProperty("d_sae").GetInt32());
        Assert.Equal(266, section.GetProperty("spliced").GetProperty("clean").GetProperty("correct").GetInt32());
        string report = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains("<h2>8. MLP Jacobians</h2>", report);
        Assert.Contains("<h2>9. Sparse transcoder</h2>", report);
        Assert.Contains("id=\"transcoder\"", report);
        Assert.False(Directory.Exists(Path.Combine(output, "trigram_model.transcoder")));   // a given transcoder is not copied or trained
    }

    [Fact]
    public void No_transcoder_and_a_given_transcoder_exclude_each_other_and_a_folder_without_cfg_json_is_refused()
    {
        var (code, _, stderr) = CliRunner.Run("study", "--no-transcoder", "--transcoder", Dir);
        Assert.Equal(2, code);
        Assert.Contains("--no-transcoder or --transcoder, not both", stderr);
        (code, _, stderr) = CliRunner.Run("study", "--transcoder", Dir);
        Assert.Equal(2, code);
        Assert.Contains("is not a transcoder folder (no cfg.json in it)", stderr);
    }

    // Through the whole command with a small recipe (CliRunner.Small): training the real default takes minutes. That the
    // tool's default is the fast recipe is the next test's.
    [Fact]
    public void Study_without_a_model_trains_one_first_and_reuses_it_next_time()
    {
        var (code, stdout, stderr) = CliRunner.Run(CliRunner.Small, "study", "--out", Dir, "--train-epochs", "1", "--rows", "1", "--no-transcoder");
        Assert.True(code == 0, stderr);
        Assert.Contains("training the default (tiny) model", stdout);
        string model = Path.Combine(Dir, "model-seed40-epochs1.safetensors");
        Assert.True(File.Exists(model));
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "results.json"))))
        {
            var training = json.RootElement.GetProperty("model").GetProperty("training");
            Assert.Equal(1, training.GetProperty("epochs").GetInt32());
            int correct = training.GetProperty("trigram_correct").GetInt32();
            Assert.True(correct > 0, "the small model must get some trigrams right, or the comparison below proves little");
            Assert.Equal(correct, json.RootElement.GetProperty("metrics").GetProperty("trigram_accuracy").GetProperty("correct").GetInt32());
        }
        Assert.Contains("0. Training", File.ReadAllText(Path.Combine(Dir, "report.html")));

        var written = File.GetLastWriteTimeUtc(model);
        (code, stdout, stderr) = CliRunner.Run(CliRunner.Small, "study", "--out", Dir, "--train-epochs", "1", "--rows", "1", "--no-transcoder");
        Assert.True(code == 0, stderr);
        Assert.Equal(written, File.GetLastWriteTimeUtc(model));   // the finished model was reused, not retrained
        Assert.Contains("reusing the default model trained earlier", stdout);
        Assert.DoesNotContain("generating", stdout);               // and no training data was generated for it
        Assert.DoesNotContain("resuming", stdout);

        // A model left by a version whose recipe differed (here in its shards) is trained again, not refused.
        TrigramTraining.Train(new TrigramTrainingOptions { Recipe = CliRunner.TinyRecipe with { Shards = 3 }, Epochs = 1, OutputPath = model }).Model.Dispose();
        written = File.GetLastWriteTimeUtc(model);
        (code, stdout, stderr) = CliRunner.Run(CliRunner.Small, "study", "--out", Dir, "--train-epochs", "1", "--rows", "1", "--no-transcoder");
        Assert.True(code == 0, stderr);
        Assert.Contains("earlier definition of the tiny recipe: training again from scratch", stdout);
        Assert.NotEqual(written, File.GetLastWriteTimeUtc(model));
    }

    // The tool's own default: a finished one-epoch model of the fast recipe, seed 40, left where training leaves it, is
    // found and reused, so `study` looks for exactly that recipe (any other would train). An untrained model stands in
    // for the trained weights, which would take a minute to make; the metadata and log are what training writes.
    [Fact]
    public void Without_a_model_the_tool_studies_the_fast_recipes_model()
    {
        string path = Path.Combine(Dir, "model-seed40-epochs1.safetensors");
        var recipe = TrigramRecipe.Fast.WithEpochs(1);
        using (var untrained = new HookedTransformer(TrigramModelConfig.For(TrigramDataConfig.For(40), 40)))
            ModelCheckpoint.Save(untrained, path, new Dictionary<string, string>
            {
                [TrigramTraining.RecipeKey] = recipe.ToJson(), [TrigramTraining.SeedKey] = "40", [TrigramTraining.EpochKey] = "1",
            });
        MetricsLog<TrigramEpochMetrics>.Create(TrainingOutputs.For(path).Metrics).Append(new TrigramEpochMetrics(0, 4.3, 4.3, 1, 7, 277, 0.01, 1e-3, 1, 1));

        // Only the analysis set is small: the recipe is the tool's.
        var (code, stdout, stderr) = CliRunner.Run(CliRunner.Small with { Recipe = null }, "study", "--out", Dir, "--train-epochs", "1", "--rows", "1", "--no-transcoder");
        Assert.True(code == 0, stderr);
        Assert.Contains("reusing the default model trained earlier", stdout);
        Assert.DoesNotContain("generating", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "results.json")));
        var model = json.RootElement.GetProperty("model");
        Assert.StartsWith("trained (fast recipe, seed 40)", model.GetProperty("source").GetString());
        Assert.Equal(7, model.GetProperty("training").GetProperty("trigram_correct").GetInt32());   // read back from the log
    }

    [Fact]
    public void Bench_study_times_both_jacobian_methods_on_the_same_rows_and_the_whole_study()
    {
        var (code, stdout, stderr) = CliRunner.Run(CliRunner.Small, "bench", "study", "--rows", "3", "--json");
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
