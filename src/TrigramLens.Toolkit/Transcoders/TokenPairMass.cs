using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>Activation mass that fell on positions holding one (previous token, current token) pair.</summary>
/// <param name="Previous">the token before the position; -1 at position 0, which has none</param>
public readonly record struct PairMass(int Previous, int Current, double Mass);

/// <summary>One feature's activation mass over a token dataset, by (previous, current) token pair.</summary>
/// <param name="Total">the feature's summed activation over every position</param>
/// <param name="Pairs">every pair it was active on, largest mass first</param>
public sealed record FeaturePairMass(int Feature, double Total, long ActivePositions, IReadOnlyList<PairMass> Pairs)
{
    /// <summary>The share of <see cref="Total"/> on the heaviest pair (0 for a feature that never fired).</summary>
    public double TopShare => Total > 0 && Pairs.Count > 0 ? Pairs[0].Mass / Total : 0;
}

/// <summary>
/// Accumulates, for every feature (or neuron), where its activation mass falls by the (previous, current) token pair of
/// each position, over chunks of a dataset. Only non-zero activations are visited, so a sparse dictionary over a large
/// dataset costs its number of active entries, not positions × features. Activations are summed as given (a
/// non-negative activation's mass is its value).
/// </summary>
public sealed class TokenPairMass
{
    readonly Dictionary<long, double>[] _byPair;   // per feature: pair key → mass
    readonly double[] _total;
    readonly long[] _active;

    public TokenPairMass(int features)
    {
        if (features < 1) throw new ArgumentException($"features must be positive (got {features})");
        _byPair = Enumerable.Range(0, features).Select(_ => new Dictionary<long, double>()).ToArray();
        _total = new double[features];
        _active = new long[features];
    }

    public int Features => _total.Length;

    /// <param name="tokens">[rows, pos] int64</param>
    /// <param name="activations">[rows, pos, features] of those rows</param>
    public void Add(Tensor tokens, Tensor activations)
    {
        if (tokens.dim() != 2 || activations.dim() != 3 || activations.shape[0] != tokens.shape[0] || activations.shape[1] != tokens.shape[1]
            || activations.shape[2] != Features)
            throw new ArgumentException($"tokens [rows, pos] and activations [rows, pos, {Features}] must match; got [{string.Join(", ", tokens.shape)}] and [{string.Join(", ", activations.shape)}]");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long pos = tokens.shape[1];
        var nonzero = activations.NonZero().nonzero();                       // [nnz, 3]: row, position, feature
        if (nonzero.shape[0] == 0) return;
        var rp = nonzero[.., 0].Times(pos).add_(nonzero[.., 1], HeldScalars.One);       // [nnz]: row · pos + position
        var f = nonzero[.., 2].data<long>().ToArray();
        var at = rp.data<long>().ToArray();
        var v = activations.reshape(-1).index_select(0, rp.Times((long)Features).add_(nonzero[.., 2], HeldScalars.One)).to(ScalarType.Float64).data<double>().ToArray();
        var tokenAt = tokens.reshape(-1).data<long>().ToArray();
        for (int i = 0; i < v.Length; i++)
        {
            int j = (int)f[i];
            long previous = at[i] % pos == 0 ? -1 : tokenAt[at[i] - 1];   // -1: the first position has none
            long key = (previous + 1) << 32 | tokenAt[at[i]];
            ref double mass = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_byPair[j], key, out _);
            mass += v[i];
            _total[j] += v[i];
            _active[j]++;
        }
    }

    /// <summary>Feature <paramref name="feature"/>'s mass by pair, heaviest first (ties by pair).</summary>
    public FeaturePairMass For(int feature)
    {
        var pairs = _byPair[feature]
            .Select(kv => new PairMass((int)(kv.Key >> 32) - 1, (int)(kv.Key & 0xFFFFFFFF), kv.Value))
            .OrderByDescending(m => m.Mass).ThenBy(m => m.Previous).ThenBy(m => m.Current)
            .ToList();
        return new FeaturePairMass(feature, _total[feature], _active[feature], pairs);
    }

    public IReadOnlyList<FeaturePairMass> All() => Enumerable.Range(0, Features).Select(For).ToList();
}
