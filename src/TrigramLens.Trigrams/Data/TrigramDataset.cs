using TorchSharp;
using TrigramLens.Runtime;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Trigrams.Data;

/// <summary>
/// ARENA's <c>BigramDataset</c>: random token sequences in which every trigram prefix <c>(a, b)</c> is followed by
/// its completion. The same seed gives the same trigrams and tokens as the Python original, draw for draw.
/// Owns <see cref="Tokens"/> (independent of dispose scopes); dispose when done.
/// </summary>
public sealed class TrigramDataset : IDisposable
{
    internal TrigramDataset(TrigramDataConfig config, TrigramSet trigrams, Tensor tokens)
    {
        Config = config;
        Trigrams = trigrams;
        Tokens = tokens;
    }

    public TrigramDataConfig Config { get; }
    public TrigramSet Trigrams { get; }

    /// <summary>[size, seq_len] int64</summary>
    public Tensor Tokens { get; }

    public long Size => Tokens.shape[0];

    /// <summary>
    /// Seeds a generator with <c>config.Seed</c>, draws the trigram set, then one <c>randint(0, d_vocab, (size, seq_len))</c>,
    /// then plants the trigrams left to right (so a planted token can complete a later prefix).
    /// </summary>
    public static TrigramDataset Generate(TrigramDataConfig config, int size)
    {
        TorchRuntime.EnsureLoaded();
        using var generator = new Generator((ulong)config.Seed);
        return Generate(config, size, generator);
    }

    /// <summary>
    /// The same draws from <paramref name="generator"/>, which the caller seeded (as ARENA seeds its global generator).
    /// Afterwards it stands where ARENA's next draw, e.g. <c>random_split</c>'s permutation, would start.
    /// </summary>
    public static TrigramDataset Generate(TrigramDataConfig config, int size, Generator generator)
    {
        config.Validate();
        if (size < 0) throw new ArgumentOutOfRangeException(nameof(size), "size must not be negative");
        var trigrams = TrigramSet.Generate(generator, config.DVocab, config.ResolvedTrigramCount);
        using var scope = NewDisposeScope();
        var tokens = randint(0, config.DVocab, [size, config.SeqLen], generator: generator);
        PlantTrigrams(tokens, trigrams);
        return new TrigramDataset(config, trigrams, tokens.DetachFromDisposeScope());
    }

    /// <summary>
    /// One vectorised pass per position: look up every row's <c>(toks[i], toks[i+1])</c> in the completion table and
    /// overwrite <c>toks[i+2]</c> where it is a prefix. Positions must go in order, since a write can create a prefix.
    /// </summary>
    internal static void PlantTrigrams(Tensor tokens, TrigramSet trigrams)
    {
        using var scope = NewDisposeScope();
        var table = trigrams.CompletionTable();
        long seqLen = tokens.shape[1];
        using var vocab = ((long)trigrams.DVocab).ToScalar();   // held for every call that reads it
        using var zero = 0L.ToScalar();
        for (long i = 0; i + 2 < seqLen; i++)
        {
            var completion = table.index_select(0, tokens[.., i].mul(vocab).add_(tokens[.., i + 1], One));
            var target = tokens[.., i + 2];
            target.copy_(where(completion.ge(zero), completion, target));
        }
    }

    /// <summary>
    /// Every <c>(row, pos)</c> where <c>toks[row, pos], toks[row, pos + 1]</c> is a trigram prefix: <c>[n, 2]</c> int64.
    /// </summary>
    public static Tensor TrigramPositions(Tensor tokens, TrigramSet trigrams)
    {
        using var scope = NewDisposeScope();
        long seqLen = tokens.shape[1];
        using var vocab = ((long)trigrams.DVocab).ToScalar();
        using var zero = 0L.ToScalar();
        var keys = tokens[.., ..(int)(seqLen - 1)].mul(vocab).add_(tokens[.., 1..], One);
        var isPrefix = trigrams.CompletionTable().index_select(0, keys.flatten()).view(keys.shape).ge(zero);
        return isPrefix.nonzero().MoveToOuterDisposeScope();
    }

    public Tensor TrigramPositions() => TrigramPositions(Tokens, Trigrams);

    public void Dispose() => Tokens.Dispose();
}
