using TrigramLens.Trigrams.Data;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Data;

public class TrigramDatasetTests
{
    static HashSet<Trigram> PublishedSeed40Set() =>
        File.ReadLines(Path.Combine(AppContext.BaseDirectory, "ReferenceData", "arena-seed40-trigrams.txt"))
            .Where(l => !l.StartsWith('#'))
            .Select(l => l.Split(' ').Select(int.Parse).ToArray())
            .Select(x => new Trigram(x[0], x[1], x[2]))
            .ToHashSet();

    [Fact]
    public void Seed_40_gives_ARENAs_published_277_trigrams()
    {
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, size: 0);
        Assert.Equal(277, dataset.Trigrams.Count);
        Assert.True(PublishedSeed40Set().SetEquals(dataset.Trigrams.Trigrams));
    }

    [Fact]
    public void Seed_40_gives_the_first_row_ARENAs_notebook_shows()
    {
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, size: 2500);
        long[] row0 = dataset.Tokens[0].data<long>().ToArray();
        // michaelyliu6's run of ARENA's challenge notebook: BigramDataset(size=2500, ..., seed=40).toks[0]
        Assert.Equal([55, 7, 12, 10, 67, 56, 49, 0, 23], row0[..9]);
        Assert.Equal([58, 8], row0[^2..]);
    }

    [Fact]
    public void The_challenge_notebooks_demo_dataset_is_reproduced_draw_for_draw()
    {
        // ARENA's notebook: BigramDataset(size=10, d_vocab=10, seq_len=10, trigram_prob=0.1, seed=42)
        using var dataset = TrigramDataset.Generate(new TrigramDataConfig { Seed = 42, DVocab = 10, SeqLen = 10, TrigramProb = 0.1 }, 10);
        Trigram[] expectedSet = [new(2, 7, 6), new(2, 5, 5), new(3, 8, 4), new(2, 0, 5), new(0, 4, 0), new(4, 6, 5), new(9, 7, 9), new(6, 3, 1), new(9, 3, 1)];
        Assert.True(expectedSet.ToHashSet().SetEquals(dataset.Trigrams.Trigrams));
        long[,] expectedTokens =
        {
            { 9, 3, 1, 9, 6, 2, 0, 5, 2, 7 }, { 9, 7, 9, 3, 1, 3, 7, 0, 9, 0 }, { 9, 6, 9, 5, 4, 8, 8, 6, 0, 0 },
            { 0, 0, 1, 3, 0, 1, 1, 7, 9, 4 }, { 3, 8, 4, 3, 7, 8, 1, 4, 1, 6 }, { 3, 2, 0, 5, 8, 5, 3, 7, 7, 5 },
            { 9, 1, 5, 1, 9, 1, 4, 0, 3, 7 }, { 5, 7, 1, 5, 7, 5, 8, 5, 4, 1 }, { 1, 0, 9, 0, 9, 1, 8, 9, 6, 7 },
            { 6, 0, 9, 5, 2, 9, 1, 7, 8, 6 },
        };
        Assert.True(dataset.Tokens.Equals(tensor(expectedTokens)));
    }

    [Fact]
    public void Generated_trigrams_never_contradict_or_chain()
    {
        using var dataset = TrigramDataset.Generate(new TrigramDataConfig { Seed = 3, DVocab = 20, NTrigrams = 60 }, 0);
        var t = dataset.Trigrams.Trigrams;
        Assert.Equal(60, t.Count);
        Assert.Equal(60, t.Select(x => (x.A, x.B)).Distinct().Count());
        var prefixes = t.Select(x => (x.A, x.B)).ToHashSet();
        Assert.DoesNotContain(t, x => prefixes.Contains((x.B, x.C)) && (x.B, x.C) != (x.A, x.B));
    }

    [Fact]
    public void Vectorised_planting_equals_a_naive_per_trigram_loop()
    {
        var config = new TrigramDataConfig { Seed = 5, DVocab = 12, SeqLen = 30, TrigramProb = 0.2 };
        using var dataset = TrigramDataset.Generate(config, 200);

        // Same draws, planted the slow way: one masked pass per position and trigram.
        using var generator = new Generator(5);
        var trigrams = TrigramSet.Generate(generator, 12, config.ResolvedTrigramCount);
        var tokens = randint(0, 12, [200, 30], generator: generator);
        long[,] naive = new long[200, 30];
        var flat = tokens.data<long>().ToArray();
        for (int r = 0; r < 200; r++) for (int p = 0; p < 30; p++) naive[r, p] = flat[r * 30 + p];
        for (int p = 0; p + 2 < 30; p++)
            foreach (var t in trigrams.Trigrams)
                for (int r = 0; r < 200; r++)
                    if (naive[r, p] == t.A && naive[r, p + 1] == t.B) naive[r, p + 2] = t.C;

        Assert.True(dataset.Tokens.Equals(tensor(naive)));
        Assert.True(dataset.TrigramPositions().shape[0] > 200, "the test data should plant many trigrams");
    }

    [Fact]
    public void Every_planted_prefix_is_followed_by_its_completion()
    {
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 300);
        var tokens = dataset.Tokens.data<long>().ToArray();
        var positions = dataset.TrigramPositions().data<long>().ToArray();
        int seqLen = dataset.Config.SeqLen, checkedCount = 0;
        for (int i = 0; i < positions.Length; i += 2)
        {
            long row = positions[i], pos = positions[i + 1];
            int a = (int)tokens[row * seqLen + pos], b = (int)tokens[row * seqLen + pos + 1];
            Assert.NotNull(dataset.Trigrams.Completion(a, b));
            if (pos + 2 >= seqLen) continue;
            Assert.Equal(dataset.Trigrams.Completion(a, b), (int)tokens[row * seqLen + pos + 2]);
            checkedCount++;
        }
        // And the positions are all of them: count prefixes by brute force.
        int expected = 0;
        for (int r = 0; r < 300; r++)
            for (int p = 0; p + 1 < seqLen; p++)
                if (dataset.Trigrams.Completion((int)tokens[r * seqLen + p], (int)tokens[r * seqLen + p + 1]) is not null) expected++;
        Assert.Equal(expected, positions.Length / 2);
        Assert.True(checkedCount > 0);
    }

    [Fact]
    public void The_table_is_sorted_by_second_element()
    {
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 0);
        var sorted = dataset.Trigrams.SortedBySecond();
        Assert.Equal(277, sorted.Count);
        Assert.True(sorted.Zip(sorted.Skip(1)).All(p => p.First.B < p.Second.B || (p.First.B == p.Second.B && p.First.A <= p.Second.A)));
    }

    [Theory]
    [InlineData(0.05, 75, 277)]
    [InlineData(0.1, 10, 9)]
    public void Trigram_count_follows_ARENAs_formula(double p, int dVocab, int expected) =>
        Assert.Equal(expected, TrigramSet.CountFor(p, dVocab));

    [Fact]
    public void Export_writes_tokens_and_trigrams_that_read_back_equal()
    {
        string dir = Directory.CreateTempSubdirectory("trigramlens-ds-").FullName;
        try
        {
            using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 20);
            string path = Path.Combine(dir, "data.safetensors");
            string trigramsPath = TrigramDatasetFile.Save(dataset, path);

            var (tensors, metadata) = TrigramLens.Checkpoints.SafetensorsFile.Load(path);
            Assert.True(tensors["tokens"].Equals(dataset.Tokens));
            Assert.Equal("40", metadata["seed"]);
            var json = System.Text.Json.JsonSerializer.Deserialize<int[][]>(File.ReadAllText(trigramsPath))!;
            Assert.Equal(dataset.Trigrams.Trigrams, json.Select(x => new Trigram(x[0], x[1], x[2])));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
