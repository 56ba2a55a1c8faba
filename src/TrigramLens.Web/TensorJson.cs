using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TrigramLens.Web;

/// <summary>
/// Tensors as compact JSON for a page: <c>{ "shape": [..], "data": base64 }</c>, the data little-endian float32 in
/// row-major order (a third of the size of decimal text, and exactly the values the model holds). The page decodes
/// it with <c>TrigramLensWeb.decodeTensor</c>.
/// </summary>
public static class TensorJson
{
    public static JsonObject Float32(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var t = tensor.detach().to(ScalarType.Float32).cpu().contiguous();
        return Float32(t.data<float>().ToArray(), t.shape);
    }

    public static JsonObject Float32(ReadOnlySpan<float> values, IReadOnlyList<long> shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != values.Length) throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {count} values, not {values.Length}");
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return new JsonObject
        {
            ["shape"] = new JsonArray(shape.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
            ["data"] = Convert.ToBase64String(bytes),
        };
    }

    /// <summary>Decodes what <see cref="Float32(Tensor)"/> wrote (for tests and round trips).</summary>
    public static (float[] values, long[] shape) ReadFloat32(JsonNode node)
    {
        var shape = node["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
        var bytes = Convert.FromBase64String(node["data"]!.GetValue<string>());
        var values = new float[bytes.Length / sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
        return (values, shape);
    }
}
