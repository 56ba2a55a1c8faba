namespace TrigramLens.Trigrams.Data;

/// <summary>A planted rule: whenever <see cref="A"/>, <see cref="B"/> appear adjacent, the next token is <see cref="C"/>.</summary>
public readonly record struct Trigram(int A, int B, int C)
{
    public override string ToString() => $"({A}, {B}, {C})";
}
