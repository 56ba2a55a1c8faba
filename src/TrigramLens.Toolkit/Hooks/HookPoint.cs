using TorchSharp;
using static TorchSharp.torch;

namespace TrigramLens.Hooks;

/// <summary>
/// An identity module at a named place in the forward pass (TransformerLens's <c>HookPoint</c>).
/// With no hook attached it returns its input untouched, so an unhooked forward pays almost nothing.
/// </summary>
public sealed class HookPoint : nn.Module<Tensor, Tensor>
{
    readonly List<Registration> _hooks = [];

    // Hook points are the first modules a model creates (field initialisers run before constructors), so libtorch is
    // loaded here, where a failure still gets TorchRuntime's one-line error.
    public HookPoint() : base(LoadedName()) { }

    static string LoadedName()
    {
        Runtime.TorchRuntime.EnsureLoaded();
        return nameof(HookPoint);
    }

    /// <summary>The full TransformerLens name, e.g. <c>blocks.0.attn.hook_pattern</c>; set by the owning model.</summary>
    public string Name { get; internal set; } = "";

    public bool HasHooks => _hooks.Count > 0;

    /// <summary>
    /// Attaches <paramref name="hook"/>. Disposing the returned handle removes it. Non-permanent hooks are also
    /// removed by <see cref="RemoveHooks"/> without arguments; permanent ones only when asked explicitly.
    /// </summary>
    public HookHandle AddHook(HookFunction hook, bool permanent = false)
    {
        var registration = new Registration(hook, permanent);
        _hooks.Add(registration);
        return new HookHandle(() => _hooks.Remove(registration));
    }

    public void RemoveHooks(bool includingPermanent = false) =>
        _hooks.RemoveAll(r => includingPermanent || !r.Permanent);

    /// <summary>
    /// Runs the hook point on an activation that aliases other data (a view of a weight, or one tensor fed to several
    /// hook points): hooks get their own copy, as in TransformerLens, so an in-place edit changes only this activation.
    /// Unhooked, no copy is made.
    /// </summary>
    public Tensor CallShared(Tensor shared) => call(HasHooks ? shared.clone() : shared);

    public override Tensor forward(Tensor activation)
    {
        if (_hooks.Count == 0) return activation;
        // Hooks may remove themselves while running; iterate over a snapshot.
        foreach (var registration in _hooks.ToArray())
        {
            var replaced = registration.Hook(activation, this);
            if (replaced is null) continue;
            if (!replaced.shape.SequenceEqual(activation.shape))
                throw new InvalidOperationException(
                    $"Hook on {Name} returned shape [{string.Join(", ", replaced.shape)}]; " +
                    $"the activation has shape [{string.Join(", ", activation.shape)}]");
            activation = replaced;
        }
        return activation;
    }

    sealed record Registration(HookFunction Hook, bool Permanent);
}
