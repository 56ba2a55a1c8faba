namespace TrigramLens.Hooks;

/// <summary>Removes the hook (or hooks) it stands for when disposed; disposing twice is harmless.</summary>
public sealed class HookHandle(Action remove) : IDisposable
{
    Action? _remove = remove;

    public void Dispose()
    {
        _remove?.Invoke();
        _remove = null;
    }

    internal static HookHandle Combine(IReadOnlyList<HookHandle> handles) =>
        new(() => { foreach (var h in handles) h.Dispose(); });
}
