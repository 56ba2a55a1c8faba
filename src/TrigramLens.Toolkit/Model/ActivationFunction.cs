using System.Text.Json.Serialization;

namespace TrigramLens.Model;

/// <summary>The MLP non-linearity, spelled as TransformerLens's <c>act_fn</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ActivationFunction>))]
public enum ActivationFunction
{
    [JsonStringEnumMemberName("relu")] Relu,

    /// <summary>Exact (erf) GELU, TransformerLens's <c>"gelu"</c>.</summary>
    [JsonStringEnumMemberName("gelu")] Gelu,
}
