using TorchSharp;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Data;

/// <summary>
/// Fresh token batches with a given trigram set planted, as ARENA's generator makes them (one
/// <c>randint(0, d_vocab, (rows, seq_len))</c>, then the trigrams planted left to right), from whatever generator the
/// caller passes: an endless stream of training data for models that read the trigram model (e.g. transcoders).
/// </summary>
public sealed class TrigramBatchSource(TrigramSet trigrams, int seqLen, int rows)
{
    public TrigramSet Trigrams { get; } = trigrams.DVocab >= 2 ? trigrams : throw new ArgumentException("d_vocab must be at least 2");
    public int SeqLen { get; } = seqLen >= 3 ? seqLen : throw new ArgumentException($"seq_len must be at least 3 (got {seqLen})");
    public int Rows { get; } = rows >= 1 ? rows : throw new ArgumentException($"rows must be positive (got {rows})");

    /// <summary>[rows, seq_len] int64, drawn from <paramref name="generator"/>.</summary>
    public Tensor Draw(Generator generator)
    {
        var tokens = randint(0, Trigrams.DVocab, [Rows, SeqLen], generator: generator);
        TrigramDataset.PlantTrigrams(tokens, Trigrams);
        return tokens;
    }
}
