using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>
/// Copies a state dict into a model with strict checks: every parameter present, nothing unexpected, each tensor's
/// shape and dtype as the model's, and every value finite. TransformerLens's attention buffers may be absent; present,
/// <c>mask</c> is TL ≥ 3.5's empty <c>[0, 0]</c> placeholder or the causal <c>[n_ctx, n_ctx]</c> mask older versions
/// wrote, and <c>IGNORE</c> is the masked score, <c>-inf</c> (or a large negative number, as some old versions wrote).
/// Nothing is copied unless everything passes.
/// </summary>
public static class StateDictLoader
{
    /// <summary>Masked scores must vanish under softmax as <c>-inf</c> does; TL once used <c>-1e5</c>.</summary>
    const double MaxIgnore = -1e4;

    public static bool IsOptionalBuffer(string key) => IsMask(key) || IsIgnore(key);

    static bool IsMask(string key) => key.EndsWith(".attn.mask", StringComparison.Ordinal);
    static bool IsIgnore(string key) => key.EndsWith(".attn.IGNORE", StringComparison.Ordinal);

    public static void Load(HookedTransformer model, IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        var expected = model.state_dict();
        var problems = new List<string>();

        foreach (var (key, target) in expected)
            if (!stateDict.ContainsKey(key) && !IsOptionalBuffer(key))
                problems.Add($"{source} is missing '{key}' (model expects {Shape(target)})");
        foreach (var (key, tensor) in stateDict)
            if (!expected.ContainsKey(key))
                problems.Add($"{source} has unexpected key '{CheckpointText.Shorten(key)}' {Shape(tensor)}");
        var skipped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, tensor) in stateDict)
        {
            if (!expected.TryGetValue(key, out var target)) continue;
            if (IsMask(key) && tensor.dtype == ScalarType.Bool && tensor.shape.SequenceEqual([0L, 0L]))
                skipped.Add(key);   // TL ≥ 3.5 builds the mask per forward and saves an empty placeholder
            else if (!tensor.shape.SequenceEqual(target.shape))
                problems.Add($"'{key}' in {source} has shape {Shape(tensor)}, model expects {Shape(target)}"
                    + (IsMask(key) ? " (or TL 3.5's empty [0, 0])" : ""));
            else if (tensor.dtype != target.dtype)
                problems.Add($"'{key}' in {source} has dtype {tensor.dtype}, model expects {target.dtype}");
        }
        if (problems.Count > 0)
            throw new CheckpointException(problems[0] + (problems.Count > 1 ? $" (and {problems.Count - 1} more problems)" : ""));

        using var _ = no_grad();
        using (NewDisposeScope())
        foreach (var (key, tensor) in stateDict)
        {
            if (skipped.Contains(key)) continue;
            if (tensor.dtype == ScalarType.Bool) TensorChecks.RequireBoolBytes(tensor.contiguous(), key, source);
            if (IsMask(key)) RequireCausal(key, tensor, source);
            else if (IsIgnore(key)) RequireIgnore(key, tensor, source);
            else TensorChecks.RequireFinite(tensor, key, source);
        }
        foreach (var (key, tensor) in stateDict)
            if (!skipped.Contains(key)) expected[key].copy_(tensor);
    }

    static void RequireCausal(string key, Tensor mask, string source)
    {
        long n = mask.shape[0];
        using var causal = ones(n, n, ScalarType.Bool).tril();
        if (!mask.eq(causal).all().item<bool>())
            throw new CheckpointException($"'{key}' in {source} is not the causal mask (TrigramLens runs causal attention only)");
    }

    static void RequireIgnore(string key, Tensor ignore, string source)
    {
        double value = ignore.to(ScalarType.Float64).item<double>();
        if (!(value <= MaxIgnore))
            throw new CheckpointException($"'{key}' in {source} is {value}; a masked attention score must be -inf (or at most {MaxIgnore})");
    }

    internal static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
