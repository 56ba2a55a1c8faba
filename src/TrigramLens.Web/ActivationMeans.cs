using System.Text.Json.Nodes;
using TrigramLens.Model;
using TorchSharp;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Web;

/// <summary>
/// What a page's mean-ablation puts in place of an activation: its mean over a token set, every row and every position
/// but the last (the published study's choice for <c>hook_mlp_out</c>: the last position predicts nothing in training).
/// Per layer: <c>hook_mlp_out [d_model]</c>, <c>mlp.hook_post [d_mlp]</c> (one mean per neuron) and
/// <c>attn.hook_z [n_heads, d_head]</c> (one mean per head).
/// </summary>
public static class ActivationMeans
{
    /// <param name="tokens">[batch, pos] int64, at least two positions</param>
    /// <returns>full hook name → mean (float32), e.g. <c>blocks.0.hook_mlp_out</c> → <c>[d_model]</c></returns>
    public static Dictionary<string, Tensor> Compute(HookedTransformer model, Tensor tokens, int batchSize = 500)
    {
        if (tokens.dim() != 2 || tokens.shape[1] < 2) throw new ArgumentException("tokens must be [batch, pos] with at least two positions");
        var names = new List<string>();
        for (int l = 0; l < model.Cfg.n_layers; l++)
        {
            names.Add($"blocks.{l}.attn.hook_z");
            if (!model.Cfg.attn_only) names.AddRange([$"blocks.{l}.hook_mlp_out", $"blocks.{l}.mlp.hook_post"]);
        }
        var sums = new Dictionary<string, Tensor>();
        long count = 0;
        using (no_grad())
            for (long start = 0; start < tokens.shape[0]; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = tokens.narrow(0, start, Math.Min(batchSize, tokens.shape[0] - start));
                var (_, cache) = model.RunWithCache(batch, [.. names]);
                using (cache)
                    foreach (string name in names)
                    {
                        var x = cache[name];
                        var s = x[.., ..^1].to(ScalarType.Float64).sum([0, 1]);                       // [d...]
                        sums[name] = sums.TryGetValue(name, out var previous) ? previous.add(s, One).DetachFromDisposeScope() : s.DetachFromDisposeScope();
                        if (!ReferenceEquals(previous, null)) previous.Dispose();
                    }
                count += batch.shape[0] * (tokens.shape[1] - 1);
            }
        using var positions = count.ToScalar();
        return sums.ToDictionary(kv => kv.Key, kv =>
        {
            var mean = kv.Value.div(positions).to(ScalarType.Float32);
            kv.Value.Dispose();
            return mean;
        });
    }

    /// <summary>The means as JSON: hook name → <see cref="TensorJson"/> tensor.</summary>
    public static JsonObject ToJson(IReadOnlyDictionary<string, Tensor> means)
    {
        var json = new JsonObject();
        foreach (var (name, mean) in means.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json[name] = TensorJson.Float32(mean);
        return json;
    }
}
