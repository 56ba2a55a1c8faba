using TrigramLens.Model;

namespace TrigramLens.Trigrams.Data;

/// <summary>
/// Parameters of ARENA's <c>BigramDataset</c>. Give the trigram count directly (<see cref="NTrigrams"/>) or through
/// <see cref="TrigramProb"/>; the challenge uses seed 40, <c>d_vocab = 75</c>, <c>seq_len = 50</c>, <c>trigram_prob = 0.05</c>.
/// </summary>
public sealed record TrigramDataConfig
{
    public int Seed { get; init; } = 40;
    public int DVocab { get; init; } = 75;
    public int SeqLen { get; init; } = 50;
    public double? TrigramProb { get; init; } = 0.05;
    public int? NTrigrams { get; init; }

    /// <summary>The challenge's settings.</summary>
    public static TrigramDataConfig Arena { get; } = new();

    /// <summary>
    /// The data every command and the study build from a seed: the challenge's settings with that seed, sized to a model's
    /// vocabulary and context when one is given (the one place the data configuration is made).
    /// </summary>
    public static TrigramDataConfig For(int seed, HookedTransformerConfig? model = null) => Arena with
    {
        Seed = seed,
        DVocab = model?.d_vocab ?? Arena.DVocab,
        SeqLen = model?.n_ctx ?? Arena.SeqLen,
    };

    public int ResolvedTrigramCount => NTrigrams ?? TrigramSet.CountFor(TrigramProb ?? throw new InvalidOperationException("give TrigramProb or NTrigrams"), DVocab);

    /// <summary><c>trigram_prob</c>, derived from the count when the count was given: <c>n / (d_vocab (d_vocab - 1))</c>.</summary>
    public double ResolvedTrigramProb => NTrigrams is int n ? (double)n / (DVocab * (DVocab - 1)) : TrigramProb!.Value;

    public void Validate()
    {
        if (DVocab < 2) throw new ArgumentException($"d_vocab must be at least 2 (got {DVocab})");
        if (SeqLen < 3) throw new ArgumentException($"seq_len must be at least 3 (got {SeqLen})");
        if (NTrigrams is null && TrigramProb is null) throw new ArgumentException("give trigram_prob or n_trigrams");
        if (TrigramProb is double p && (p < 0 || p > 0.5)) throw new ArgumentException($"trigram_prob must lie in [0, 0.5] (got {p})");
    }
}
