using System.Text.Json;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Training;
using static TorchSharp.torch;

namespace TrigramLens.Cli.Tests.Commands;

[Collection("Console")]
public sealed class TranscoderCommandTests() : TempDirectoryTests("trigramlens-transcoder-cli-")
{
    [ArenaCheckpointFact]
    public void Transcoder_writes_a_saelens_folder_whose_reloaded_weights_give_the_reported_numbers()
    {
        string model = ReferenceData.RequireArenaCheckpoint(), output = Path.Combine(Dir, "tc");
        var (code, stdout, stderr) = CliRunner.Run("transcoder", "--model", model, "--width", "64", "--k", "2", "--steps", "15", "--out", output, "--json");
        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        foreach (string file in new[] { "transcoder/cfg.json", "transcoder/sae_weights.safetensors", "metrics.json", "features.json", "features.html",
                     "training-curves.png", "training-l0.png", "density.png", "ownership.png", "ownership-neurons.png" })
            Assert.True(File.Exists(Path.Combine(output, file)), file);
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json"))).RootElement;
        Assert.Equal(json.GetProperty("reconstruction").GetProperty("fvu").GetDouble(), metrics.GetProperty("reconstruction").GetProperty("fvu").GetDouble());
        Assert.Equal("topk_transcoder", metrics.GetProperty("transcoder").GetProperty("architecture").GetString());
        Assert.Equal(15, metrics.GetProperty("training").GetProperty("steps").GetInt64());
        Assert.Equal(20, metrics.GetProperty("neuron_baseline").GetProperty("units").GetInt32());
        Assert.Equal(266, metrics.GetProperty("spliced").GetProperty("clean").GetProperty("correct").GetInt32());

        // The folder reloads, and its weights give the reported FVU and L0 on the analysis set.
        using var transcoder = TranscoderFile.Load(Path.Combine(output, "transcoder"));
        Assert.Equal(2, transcoder.Cfg.k);
        using var transformer = ModelCheckpoint.Load(model, TrigramModelConfig.CheckpointOptions);
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 2500);
        var (_, cache) = transformer.RunWithCache(dataset.Tokens, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out");
        using (cache)
        {
            var m = TranscoderMetrics.Measure(transcoder, cache["blocks.0.hook_resid_mid"].reshape(-1, 32), cache["blocks.0.hook_mlp_out"].reshape(-1, 32));
            Assert.Equal(metrics.GetProperty("reconstruction").GetProperty("fvu").GetDouble(), m.Fvu, 10);
            Assert.Equal(metrics.GetProperty("reconstruction").GetProperty("l0").GetDouble(), m.L0, 10);
            Assert.Equal(metrics.GetProperty("reconstruction").GetProperty("dead").GetInt32(), m.Dead);
        }
        var features = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "features.json"))).RootElement;
        Assert.Equal(metrics.GetProperty("reconstruction").GetProperty("live").GetInt32(), features.GetProperty("features").GetArrayLength());
        Assert.Contains("dedicated", File.ReadAllText(Path.Combine(output, "features.html")));
    }

    string UntrainedModel()
    {
        string path = Path.Combine(Dir, "untrained.safetensors");
        using var model = new HookedTransformer(TinyModels.Arena());
        ModelCheckpoint.Save(model, path);
        return path;
    }

    [Fact]
    public void Transcoder_prints_plain_progress_lines_when_redirected()
    {
        var (code, stdout, stderr) = CliRunner.Run("transcoder", "--model", UntrainedModel(), "--width", "32", "--k", "1", "--steps", "4", "--out", Path.Combine(Dir, "o"));
        Assert.True(code == 0, stderr);
        Assert.Contains("topk_transcoder: 32 features, 4 steps", stdout);
        Assert.Contains("step 4/4 · FVU", stdout);
        Assert.Contains("trigrams with a dedicated feature", stdout);
        Assert.Contains("at most (the MLP's output alone)", stdout);
        Assert.DoesNotContain("\u001b[", stdout);
    }

    [Fact]
    public void Sweep_writes_one_line_per_run_the_table_and_the_three_frontiers()
    {
        string output = Path.Combine(Dir, "sweep");
        var (code, stdout, stderr) = CliRunner.Run("transcoder", "sweep", "--model", UntrainedModel(), "--widths", "16", "--ks", "1,2", "--steps", "3",
            "--out", output, "--json");
        Assert.True(code == 0, stderr);
        var runs = JsonDocument.Parse(stdout).RootElement.GetProperty("runs");
        Assert.Equal(["topk-w16-k1", "topk-w16-k2"], runs.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "sweep.jsonl")).Length);
        Assert.Contains("topk-w16-k2", File.ReadAllText(Path.Combine(output, "sweep.md")));
        foreach (string f in new[] { "frontier-l0-fvu.png", "frontier-l0-accuracy.png", "frontier-width-dedicated.png" })
            Assert.True(new FileInfo(Path.Combine(output, f)).Length > 1000, f);
        using var reloaded = TranscoderFile.Load(Path.Combine(output, "runs", "topk-w16-k2"));
        Assert.Equal((16, 2), (reloaded.Cfg.d_sae, reloaded.Cfg.k));
    }

    [Fact]
    public void Bench_transcoder_reports_positions_per_second_as_the_median_of_its_rounds()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "transcoder", "--rounds", "3", "--steps", "2", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        var rounds = json.GetProperty("positions_per_second_by_round").EnumerateArray().Select(e => e.GetDouble()).Order().ToArray();
        Assert.Equal(3, rounds.Length);
        Assert.All(rounds, r => Assert.True(r > 0));
        Assert.Equal(rounds[1], json.GetProperty("positions_per_second").GetDouble());
    }

    [Theory]
    [InlineData(new[] { "transcoder" }, "--model")]
    [InlineData(new[] { "transcoder", "--model", "MODEL", "--k", "2", "--l1", "0.1" }, "at most one of --k, --l1 and --l0")]
    [InlineData(new[] { "transcoder", "--model", "MODEL", "--k", "0" }, "--k must be a positive integer")]
    [InlineData(new[] { "transcoder", "--model", "MODEL", "--width", "8", "--k", "9" }, "--k 9 exceeds the width 8")]
    [InlineData(new[] { "transcoder", "--model", "MODEL", "--l1", "-1" }, "--l1 must be a non-negative number")]
    [InlineData(new[] { "transcoder", "--model", "MODEL", "--steps", "0" }, "--steps must be a positive integer")]
    [InlineData(new[] { "transcoder", "sweep", "--model", "MODEL", "--ks", "1", "--l1s", "0.1" }, "at most one of --ks, --l1s and --l0s")]
    [InlineData(new[] { "transcoder", "sweep", "--model", "MODEL", "--widths", "8,x" }, "--widths must be a comma-separated list")]
    [InlineData(new[] { "bench", "transcoder", "--steps", "0" }, "--steps must be a positive integer")]
    public void Bad_arguments_are_one_line_and_exit_code_2_before_any_work(string[] args, string expected)
    {
        string model = Path.Combine(Dir, "m.pt");
        File.WriteAllText(model, "not read: arguments are checked first");
        var (code, stdout, stderr) = CliRunner.Run(args.Select(a => a == "MODEL" ? model : a).ToArray());
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Equal("", stdout);
    }

    [Fact]
    public void An_output_path_that_is_a_file_is_refused_before_the_model_is_read()
    {
        string file = Path.Combine(Dir, "taken");
        File.WriteAllText(file, "");
        string model = Path.Combine(Dir, "m.pt");
        File.WriteAllText(model, "garbage");
        var (code, _, stderr) = CliRunner.Run("transcoder", "--model", model, "--out", file);
        Assert.Equal(2, code);
        Assert.Contains("is a file", stderr);
    }
}
