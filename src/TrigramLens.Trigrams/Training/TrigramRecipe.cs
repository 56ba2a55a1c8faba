using System.Text.Json;
using TrigramLens.Training;

namespace TrigramLens.Trigrams.Training;

/// <summary>
/// How to train a model on the trigram task: the data (a seeded dataset, split by a seeded permutation into train and
/// validation rows) and the optimisation. <see cref="Arena"/> is ARENA's recipe (study-spec §3); <see cref="Fast"/>
/// the default, tuned to reach ARENA's checkpoint's trigram accuracy in the least wall time (docs/training.md).
/// </summary>
public sealed record TrigramRecipe
{
    public required string Name { get; init; }
    /// <summary>Sequences generated from the seed; the first <see cref="TrainSize"/> of a seeded permutation train, the rest validate.</summary>
    public int DatasetSize { get; init; } = 105_000;
    public int TrainSize { get; init; } = 100_000;
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public required LearningRateSchedule Schedule { get; init; }
    public required double WeightDecay { get; init; }
    public bool Shuffle { get; init; }
    /// <summary>Data-parallel shards of every batch (<see cref="TrainerOptions.Shards"/>): part of the recipe because the
    /// weights depend on it, so a recipe gives the same model on any number of threads.</summary>
    public int Shards { get; init; } = 2;

    public int ValidationSize => DatasetSize - TrainSize;

    /// <summary>
    /// ARENA's recipe: 105,000 sequences, 100,000 train / 5,000 validation, batch 512 in stored order, 100 epochs of
    /// AdamW (weight decay 1e-3), rate <c>1e-3 + (1e-4 − 1e-3)(e + 1)/100</c> at the start of epoch <c>e</c>.
    /// </summary>
    public static TrigramRecipe Arena { get; } = new()
    {
        Name = "arena",
        Epochs = 100,
        BatchSize = 512,
        Schedule = new LinearPerEpochSchedule(1e-3, 1e-4, 100),
        WeightDecay = 1e-3,
    };

    /// <summary>
    /// The default, chosen by the search in docs/training.md: 13 shuffled epochs of batch 192 in 2 shards, 100 warm-up
    /// steps to 2.5e-3, cosine to 10 % of it. Seed 40: 267/277 trigrams on any thread count (ARENA's checkpoint: 266);
    /// 13 % of ARENA's epochs.
    /// </summary>
    public static TrigramRecipe Fast { get; } = new()
    {
        Name = "fast",
        Epochs = 13,
        BatchSize = 192,
        Schedule = new WarmupCosineSchedule(2.5e-3, 100, 0.10),
        WeightDecay = 1e-3,
        Shuffle = true,
    };

    public static IReadOnlyList<TrigramRecipe> All { get; } = [Fast, Arena];

    public static TrigramRecipe Named(string name) =>
        All.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown recipe '{name}' (known: {string.Join(", ", All.Select(r => r.Name))})");

    /// <summary>The same recipe for <paramref name="epochs"/> epochs; a per-epoch schedule is stretched to the new length.</summary>
    public TrigramRecipe WithEpochs(int epochs)
    {
        if (epochs < 1) throw new ArgumentException($"epochs must be at least 1 (got {epochs})");
        return this with
        {
            Epochs = epochs,
            Schedule = Schedule is LinearPerEpochSchedule linear ? linear with { Epochs = epochs } : Schedule,
        };
    }

    /// <summary>The trainer's options; <paramref name="seed"/> also seeds the shuffle.</summary>
    public TrainerOptions ToTrainerOptions(int seed) => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        Schedule = Schedule,
        WeightDecay = WeightDecay,
        Shuffle = Shuffle,
        ShuffleSeed = (ulong)seed,
        Shards = Shards,
    };

    public void Validate()
    {
        if (DatasetSize < 2 || TrainSize < 1 || TrainSize >= DatasetSize)
            throw new ArgumentException($"recipe '{Name}': need 0 < train size ({TrainSize}) < dataset size ({DatasetSize})");
        ToTrainerOptions(0).Validate();
    }

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrigramRecipe FromJson(string json) =>
        JsonSerializer.Deserialize<TrigramRecipe>(json, Json) ?? throw new ArgumentException("empty recipe JSON");
}
