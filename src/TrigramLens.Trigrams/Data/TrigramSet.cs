using System.Text.Json;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Data;

/// <summary>
/// The trigrams planted in a dataset, in the order ARENA's generator accepted them, with a lookup table over
/// prefixes <c>(a, b)</c>.
/// </summary>
public sealed class TrigramSet
{
    readonly int[] _completionByPrefix;   // [d_vocab * d_vocab], -1 where (a, b) is no prefix

    public TrigramSet(IReadOnlyList<Trigram> trigrams, int dVocab)
    {
        if (dVocab < 1) throw new ArgumentOutOfRangeException(nameof(dVocab), "d_vocab must be positive");
        DVocab = dVocab;
        Trigrams = trigrams;
        _completionByPrefix = Enumerable.Repeat(-1, dVocab * dVocab).ToArray();
        foreach (var t in trigrams)
        {
            if (new[] { t.A, t.B, t.C }.Any(x => x < 0 || x >= dVocab))
                throw new ArgumentException($"trigram {t} has a token outside [0, {dVocab})");
            ref int slot = ref _completionByPrefix[t.A * dVocab + t.B];
            if (slot != -1 && slot != t.C) throw new ArgumentException($"trigram {t} contradicts ({t.A}, {t.B}, {slot})");
            slot = t.C;
        }
    }

    public int DVocab { get; }

    /// <summary>In generation order.</summary>
    public IReadOnlyList<Trigram> Trigrams { get; }

    public int Count => Trigrams.Count;

    /// <summary>The completion of prefix <c>(a, b)</c>, or null when it is no trigram's prefix.</summary>
    public int? Completion(int a, int b) => _completionByPrefix[a * DVocab + b] is var c && c >= 0 ? c : null;

    /// <summary>The table of the study: sorted by second element, then first.</summary>
    public IReadOnlyList<Trigram> SortedBySecond() => Trigrams.OrderBy(t => t.B).ThenBy(t => t.A).ToList();

    /// <summary><c>int(trigram_prob * d_vocab * (d_vocab - 1))</c>, as ARENA's generator computes it.</summary>
    public static int CountFor(double trigramProb, int dVocab) => (int)(trigramProb * dVocab * (dVocab - 1));

    /// <summary>
    /// ARENA's trigram draw: one <c>randint(0, d_vocab, (3,))</c> per candidate <c>(a, b, c)</c>, rejected when its
    /// prefix is taken (duplicate or contradiction) or it would chain with a kept trigram (its <c>(a, b)</c> is some
    /// kept <c>(b', c')</c>, or its <c>(b, c)</c> is some kept prefix).
    /// </summary>
    public static TrigramSet Generate(Generator generator, int dVocab, int nTrigrams)
    {
        int possible = dVocab * dVocab;
        if (nTrigrams < 0 || nTrigrams > possible / 2)
            throw new ArgumentOutOfRangeException(nameof(nTrigrams), $"n_trigrams must lie in [0, {possible / 2}] for d_vocab = {dVocab}");

        var trigrams = new List<Trigram>(nTrigrams);
        var prefixes = new HashSet<(int, int)>();
        var suffixes = new HashSet<(int, int)>();
        long[] draw = new long[3];
        while (trigrams.Count < nTrigrams)
        {
            using (var candidate = randint(0, dVocab, [3], generator: generator)) candidate.data<long>().CopyTo(draw);
            int a = (int)draw[0], b = (int)draw[1], c = (int)draw[2];
            if (prefixes.Contains((a, b)) || suffixes.Contains((a, b)) || prefixes.Contains((b, c))) continue;
            trigrams.Add(new Trigram(a, b, c));
            prefixes.Add((a, b));
            suffixes.Add((b, c));
        }
        return new TrigramSet(trigrams, dVocab);
    }

    /// <summary>The completion table as a tensor: <c>[d_vocab * d_vocab]</c> int64, -1 where there is no trigram.</summary>
    public Tensor CompletionTable() => tensor(_completionByPrefix.Select(c => (long)c).ToArray());

    /// <summary>Every trigram's prefix as a 2-token sequence: <c>[n, 2]</c> int64.</summary>
    public Tensor Prefixes() => tensor(Trigrams.SelectMany(t => new long[] { t.A, t.B }).ToArray()).view(Count, 2);

    /// <summary>Every trigram's completion: <c>[n]</c> int64.</summary>
    public Tensor Completions() => tensor(Trigrams.Select(t => (long)t.C).ToArray());

    public string ToJson() => JsonSerializer.Serialize(Trigrams.Select(t => new[] { t.A, t.B, t.C }));
}
