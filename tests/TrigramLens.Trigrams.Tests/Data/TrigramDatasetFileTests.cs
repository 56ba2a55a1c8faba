using System.Text.Json.Nodes;
using TrigramLens.Checkpoints;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Data;

public sealed class TrigramDatasetFileTests(ITestOutputHelper output) : TempDirectoryTests("trigramlens-dsfile-")
{
    static readonly TrigramDataConfig Small = TrigramDataConfig.Arena with { DVocab = 12, SeqLen = 9, NTrigrams = 8, Seed = 5 };

    string Saved(int size = 20)
    {
        using var dataset = TrigramDataset.Generate(Small, size);
        string path = Path.Combine(Dir, "data.safetensors");
        TrigramDatasetFile.Save(dataset, path);
        return path;
    }

    static string Refusal(string path)
    {
        var e = Assert.Throws<CheckpointException>(() => TrigramDatasetFile.Load(path).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public void A_saved_dataset_loads_back_equal()
    {
        using var original = TrigramDataset.Generate(Small, 20);
        string path = Path.Combine(Dir, "data.safetensors");
        TrigramDatasetFile.Save(original, path);
        using var loaded = TrigramDatasetFile.Load(path);
        Assert.True(loaded.Tokens.Equals(original.Tokens));
        Assert.Equal(original.Trigrams.Trigrams, loaded.Trigrams.Trigrams);
        Assert.Equal((Small.Seed, Small.DVocab, Small.SeqLen, 8), (loaded.Config.Seed, loaded.Config.DVocab, loaded.Config.SeqLen, loaded.Config.ResolvedTrigramCount));
        Assert.True(loaded.TrigramPositions().Equals(original.TrigramPositions()));
    }

    /// <summary>Rewrites the file with its tokens or metadata edited.</summary>
    static void Rewrite(string path, Action<Dictionary<string, Tensor>, Dictionary<string, string>> edit)
    {
        var (tensors, metadata) = SafetensorsFile.Load(path);
        edit(tensors, metadata);
        SafetensorsFile.Save(path, tensors, metadata);
    }

    [Fact]
    public void Tokens_out_of_range_of_the_wrong_type_or_shape_are_refused()
    {
        string path = Saved();
        Rewrite(path, (t, _) => t["tokens"][3, 4] = 12L);
        Assert.Contains("'tokens' holds values from 0 to 12, outside [0, 12)", Refusal(path));
        path = Saved();
        Rewrite(path, (t, _) => t["tokens"] = t["tokens"].to(ScalarType.Int32));
        Assert.Contains("'tokens' is Int32 [20, 9]; expected Int64 [size, 9]", Refusal(path));
        path = Saved();
        Rewrite(path, (_, m) => m["seq_len"] = "10");
        Assert.Contains("expected Int64 [size, 10]", Refusal(path));
    }

    [Fact]
    public void A_prefix_without_its_completion_is_refused()
    {
        using var dataset = TrigramDataset.Generate(Small, 20);
        var positions = dataset.TrigramPositions();
        long row = positions[0, 0].item<long>(), pos = positions[0, 1].item<long>();
        string path = Saved();
        Rewrite(path, (t, _) => t["tokens"][row, pos + 2] = (t["tokens"][row, pos + 2].item<long>() + 1) % 12);
        File.Delete(TrigramDatasetFile.TrigramsPathFor(path));
        Assert.Contains("not followed by its completion", Refusal(path));
    }

    [Fact]
    public void Trigram_lists_that_are_malformed_contradict_or_disagree_are_refused()
    {
        string path = Saved();
        Rewrite(path, (_, m) => m["trigrams"] = "[[1,2,3],[1,2]]");
        Assert.Contains("an entry that is not [a, b, c]", Refusal(path));
        path = Saved();
        Rewrite(path, (_, m) => m["n_trigrams"] = "9");
        Assert.Contains("n_trigrams = 9 but lists 8", Refusal(path));
        path = Saved();
        Rewrite(path, (_, m) =>
        {
            var list = JsonNode.Parse(m["trigrams"])!.AsArray();
            list[1] = new JsonArray(list[0]![0]!.GetValue<int>(), list[0]![1]!.GetValue<int>(), (list[0]![2]!.GetValue<int>() + 1) % 12);
            m["trigrams"] = list.ToJsonString();
        });
        Assert.Contains("contradicts", Refusal(path));
        path = Saved();
        File.WriteAllText(TrigramDatasetFile.TrigramsPathFor(path), "[[0,1,2]]");
        Assert.Contains("differ from those in", Refusal(path));
        path = Saved();
        Rewrite(path, (_, m) => m["seed"] = "forty");
        Assert.Contains("'seed' in its metadata is 'forty', not an integer", Refusal(path));
    }

    [Fact]
    public void Two_hundred_mutated_dataset_files_load_or_end_in_one_CheckpointException()
    {
        var bytes = File.ReadAllBytes(Saved(40));
        string path = Path.Combine(Dir, "fuzzed.safetensors");   // no trigram JSON beside it: the metadata's list is the one read
        var mutator = new FileMutator(20_251_134);
        var report = LoaderFuzz.Run(path, Enumerable.Range(0, 200).Select(_ => mutator.MutateSafetensors(bytes)),
            ("TrigramDatasetFile.Load", p => TrigramDatasetFile.Load(p).Dispose()));
        output.WriteLine(report.ToString());
        Assert.True(report.Failures.Count == 0, $"{report}; first: {string.Join(" | ", report.Failures.Take(5))}");
        Assert.Equal(200, report.Inputs);
        Assert.True(report.Refused > report.Reads / 2, report.ToString());
    }
}
