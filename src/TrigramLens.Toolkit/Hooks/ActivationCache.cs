using static TorchSharp.torch;

namespace TrigramLens.Hooks;

/// <summary>
/// Activations recorded by <see cref="Model.HookedTransformer.RunWithCache"/>, indexed by full hook name
/// (<c>cache["blocks.0.attn.hook_pattern"]</c>) or by short name and layer (<c>cache["pattern", 0]</c>).
/// Owns its tensors: they live until the cache is disposed, independent of any dispose scope.
/// </summary>
public sealed class ActivationCache : IDisposable
{
    readonly Dictionary<string, Tensor> _activations = new(StringComparer.Ordinal);

    public Tensor this[string name] => _activations.TryGetValue(ActivationNames.Get(name), out var t)
        ? t
        : throw new KeyNotFoundException($"'{ActivationNames.Get(name)}' is not in the cache (it holds: {string.Join(", ", Keys)})");

    public Tensor this[string name, int layer] => this[ActivationNames.Get(name, layer)];

    /// <summary>E.g. <c>cache["scale", 0, "ln1"]</c> = <c>cache["blocks.0.ln1.hook_scale"]</c> (TL's <c>get_act_name</c> layer types).</summary>
    public Tensor this[string name, int layer, string layerType] => this[ActivationNames.Get(name, layer, layerType)];

    public IEnumerable<string> Keys => _activations.Keys;

    public int Count => _activations.Count;

    public bool ContainsKey(string name) => _activations.ContainsKey(ActivationNames.Get(name));

    internal void Store(string name, Tensor activation)
    {
        var kept = activation.detach().DetachFromDisposeScope();
        if (_activations.Remove(name, out var previous)) previous.Dispose();
        _activations[name] = kept;
    }

    public void Dispose()
    {
        foreach (var t in _activations.Values) t.Dispose();
        _activations.Clear();
    }
}
