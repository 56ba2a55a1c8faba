using System.Text.Json.Serialization;

namespace TrigramLens.Model;

/// <summary>
/// TransformerLens's <c>normalization_type</c>: none (TL's <c>None</c>), LayerNorm (<c>"LN"</c>), or LayerNorm with its
/// weights folded into the next layer's (<c>"LNPre"</c>, what TL's <c>fold_ln</c> leaves: centre and scale only).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<NormalizationType>))]
public enum NormalizationType
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("LN")] LN,
    [JsonStringEnumMemberName("LNPre")] LNPre,
}
