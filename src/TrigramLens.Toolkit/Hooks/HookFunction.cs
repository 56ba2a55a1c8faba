using static TorchSharp.torch;

namespace TrigramLens.Hooks;

/// <summary>
/// A forward hook, as in TransformerLens: it sees the activation at <paramref name="hook"/> and either returns
/// a tensor of the same shape that replaces it, or <c>null</c> to leave it unchanged.
/// </summary>
public delegate Tensor? HookFunction(Tensor activation, HookPoint hook);
