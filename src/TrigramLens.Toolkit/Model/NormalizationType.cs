using System.Text.Json.Serialization;

namespace TrigramLens.Model;

/// <summary>TransformerLens's <c>normalization_type</c>: no normalisation (<c>None</c>) or LayerNorm (<c>"LN"</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NormalizationType>))]
public enum NormalizationType
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("LN")] LN,
}
