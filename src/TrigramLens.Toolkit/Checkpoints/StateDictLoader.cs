using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>
/// Copies a state dict into a model with strict checks: every parameter present, nothing unexpected, and each
/// tensor's shape and dtype as the model's. TransformerLens's attention buffers (<c>mask</c>, <c>IGNORE</c>)
/// may be present or absent.
/// </summary>
public static class StateDictLoader
{
    public static bool IsOptionalBuffer(string key) =>
        key.EndsWith(".attn.mask", StringComparison.Ordinal) || key.EndsWith(".attn.IGNORE", StringComparison.Ordinal);

    public static void Load(HookedTransformer model, IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        var expected = model.state_dict();
        var problems = new List<string>();

        foreach (var (key, target) in expected)
            if (!stateDict.ContainsKey(key) && !IsOptionalBuffer(key))
                problems.Add($"{source} is missing '{key}' (model expects {Shape(target)})");
        foreach (var (key, tensor) in stateDict)
            if (!expected.ContainsKey(key))
                problems.Add($"{source} has unexpected key '{key}' {Shape(tensor)}");
        foreach (var (key, tensor) in stateDict)
        {
            if (!expected.TryGetValue(key, out var target)) continue;
            if (!tensor.shape.SequenceEqual(target.shape))
                problems.Add($"'{key}' in {source} has shape {Shape(tensor)}, model expects {Shape(target)}");
            else if (tensor.dtype != target.dtype)
                problems.Add($"'{key}' in {source} has dtype {tensor.dtype}, model expects {target.dtype}");
        }

        if (problems.Count > 0)
            throw new CheckpointException(problems[0] + (problems.Count > 1 ? $" (and {problems.Count - 1} more problems)" : ""));

        using var _ = no_grad();
        foreach (var (key, tensor) in stateDict) expected[key].copy_(tensor);
    }

    internal static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
