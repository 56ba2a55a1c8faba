using System.Text.Json;
using TrigramLens.Testing;

namespace TrigramLens.Cli.Tests.Commands;

[Collection("Console")]
public sealed class CommandTests() : TempDirectoryTests("trigramlens-cli-")
{
    [ArenaCheckpointFact]
    public void Eval_json_reports_the_published_accuracy_of_ARENAs_checkpoint()
    {
        var (code, stdout, _) = CliRunner.Run("eval", "--model", ReferenceData.RequireArenaCheckpoint(), "--size", "200", "--json");
        Assert.Equal(0, code);
        var metrics = JsonDocument.Parse(stdout).RootElement.GetProperty("metrics");
        var accuracy = metrics.GetProperty("trigram_accuracy");
        Assert.Equal(266, accuracy.GetProperty("correct").GetInt32());
        Assert.Equal(277, accuracy.GetProperty("total").GetInt32());
        Assert.Equal(11, accuracy.GetProperty("misses").GetArrayLength());
        Assert.InRange(metrics.GetProperty("loss").GetDouble(), 4.0, 4.3);
    }

    [Fact]
    public void Trigrams_json_lists_the_seed_40_set_sorted_by_second_element()
    {
        var (code, stdout, _) = CliRunner.Run("trigrams", "--seed", "40", "--json");
        Assert.Equal(0, code);
        var trigrams = JsonDocument.Parse(stdout).RootElement.GetProperty("trigrams").EnumerateArray()
            .Select(t => t.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToList();
        Assert.Equal(277, trigrams.Count);
        Assert.Contains(trigrams, t => t.SequenceEqual([72, 72, 48]));
        Assert.Contains(trigrams, t => t.SequenceEqual([26, 49, 22]));
        Assert.Equal(trigrams.Select(t => t[1]).Order(), trigrams.Select(t => t[1]));
    }

    [Fact]
    public void Trigrams_table_is_printed_for_people()
    {
        var (code, stdout, _) = CliRunner.Run("trigrams");
        Assert.Equal(0, code);
        Assert.Contains("277 trigrams", stdout);
    }

    [Fact]
    public void Dataset_writes_tokens_and_trigram_list()
    {
        string path = Path.Combine(Dir, "d.safetensors");
        var (code, stdout, _) = CliRunner.Run("dataset", "--seed", "40", "--size", "30", "--out", path, "--json");
        Assert.Equal(0, code);
        Assert.True(File.Exists(path));
        Assert.True(File.Exists(Path.Combine(Dir, "d.trigrams.json")));
        Assert.Equal(30, JsonDocument.Parse(stdout).RootElement.GetProperty("size").GetInt32());
    }

    [Theory]
    [InlineData(new[] { "eval" }, "--model")]
    [InlineData(new[] { "eval", "--model", "/no/such/file.pt" }, "does not exist")]
    [InlineData(new[] { "trigrams", "--seed", "abc" }, "abc")]
    [InlineData(new[] { "dataset", "--size", "0", "--out", "x.safetensors" }, "--size must be an integer from 1 to 2,000,000 (got 0)")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "dataset", "--size", "2000000001", "--out", "x.safetensors" }, "--size must be an integer from 1 to 2,000,000")]
    public void Bad_arguments_are_one_line_and_exit_code_2(string[] args, string expected)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Equal("", stdout);
    }

    [Fact]
    public void A_corrupt_checkpoint_is_one_line_and_exit_code_1()
    {
        string path = Path.Combine(Dir, "bad.pt");
        File.WriteAllBytes(path, [.. "PK\x03\x04"u8, .. new byte[64]]);
        var (code, _, stderr) = CliRunner.Run("eval", "--model", path);
        Assert.Equal(1, code);
        Assert.Contains("bad.pt", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("{\"x\":5}")]
    [InlineData("{\"__metadata__\":{\"a\":3}}")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",\"4\"]}}")]
    public void A_malformed_safetensors_header_is_one_line_and_exit_code_1(string header)
    {
        string path = Path.Combine(Dir, "bad.safetensors");
        byte[] json = System.Text.Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)json.Length), .. json, 0, 0, 0, 0]);
        var (code, _, stderr) = CliRunner.Run("eval", "--model", path);
        Assert.Equal(1, code);
        Assert.Contains("not a valid safetensors file", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void An_unknown_activation_is_a_usage_error()
    {
        string path = Path.Combine(Dir, "x.pt");
        File.WriteAllText(path, "");
        var (code, _, stderr) = CliRunner.Run("eval", "--model", path, "--act-fn", "swish");
        Assert.Equal(2, code);
        Assert.Contains("--act-fn", stderr);
    }

    [Fact]
    public void No_arguments_prints_help()
    {
        var (code, stdout, _) = CliRunner.Run();
        Assert.Equal(0, code);
        Assert.Contains("eval", stdout);
        Assert.Contains("trigrams", stdout);
    }
}
