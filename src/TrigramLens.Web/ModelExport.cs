using System.Text.Json.Nodes;
using TrigramLens.Model;

namespace TrigramLens.Web;

/// <summary>
/// What <see cref="ModelExport.Export"/> produced: the model as JSON, or, when it has more parameters than the cap,
/// nothing and the reason (a page then says so instead of running the model).
/// </summary>
public sealed record ModelExportResult(JsonObject? Json, long Parameters, long MaxParameters)
{
    public bool Embedded => Json is not null;

    /// <summary>One line for the page when the model was not embedded.</summary>
    public string? Reason => Embedded ? null
        : $"the model has {Parameters:N0} parameters, more than the {MaxParameters:N0} a report embeds ({MaxParameters * 4 / 1_000_000.0:0.#} MB of float32)";
}

/// <summary>
/// A <see cref="HookedTransformer"/> as the JSON that the page's forward pass (<c>Scripts/hooked-transformer.js</c>)
/// runs: <c>{ "config": {TransformerLens config}, "parameters": n, "weights": { "blocks.0.attn.W_Q": tensor, ... } }</c>,
/// every parameter under its TransformerLens state-dict name, each a <see cref="TensorJson"/> float32 tensor. Buffers
/// (the causal mask, IGNORE) are not exported: the page rebuilds them.
/// </summary>
public static class ModelExport
{
    /// <summary>One million parameters: 4 MB of float32, about 5.3 MB in the page. The trigram model has about 10 k.</summary>
    public const long DefaultMaxParameters = 1_000_000;

    public static ModelExportResult Export(HookedTransformer model, long maxParameters = DefaultMaxParameters)
    {
        if (maxParameters < 1) throw new ArgumentOutOfRangeException(nameof(maxParameters), "the parameter cap must be positive");
        var parameters = model.named_parameters().ToList();
        long count = parameters.Sum(p => p.parameter.numel());
        if (count > maxParameters) return new ModelExportResult(null, count, maxParameters);

        var weights = new JsonObject();
        foreach (var (name, parameter) in parameters) weights[name] = TensorJson.Float32(parameter);
        var json = new JsonObject
        {
            ["config"] = JsonNode.Parse(model.Cfg.ToJson()),
            ["parameters"] = count,
            ["weights"] = weights,
        };
        return new ModelExportResult(json, count, maxParameters);
    }
}
