using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using TrigramLens.IO;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>
/// Safetensors files with a string metadata map (<c>__metadata__</c>). Tensor encoding is TorchSharp.PyBridge's;
/// this class adds the metadata, atomic writes, and a header check that turns truncated or foreign files into
/// one clear error.
/// </summary>
public static class SafetensorsFile
{
    const int MaxHeaderBytes = 100 * 1024 * 1024;

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var encoded = new MemoryStream();
        Safetensors.SaveStateDict(encoded, tensors.ToDictionary(kv => kv.Key, kv => kv.Value.contiguous()), leaveOpen: true);
        byte[] bytes = encoded.ToArray();

        // Data offsets in the header are relative to the end of the header, so the header can grow freely.
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        var header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!.AsObject();
        var meta = new JsonObject();
        foreach (var (key, value) in metadata) meta[key] = value;
        header["__metadata__"] = meta;

        var json = Encoding.UTF8.GetBytes(header.ToJsonString()).ToList();
        while (json.Count % 8 != 0) json.Add((byte)' ');   // the format asks for 8-byte alignment of the data

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, json.Count);
            stream.Write(length);
            stream.Write(json.ToArray());
            stream.Write(bytes.AsSpan(8 + (int)headerLength));
        });
    }

    public static (Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata) Load(string path)
    {
        var metadata = ReadMetadata(path);
        try
        {
            return (Safetensors.LoadStateDict(path), metadata);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CheckpointException($"'{path}' is not a readable safetensors file ({PyTorchCheckpoint.FirstLine(e.Message)})", e);
        }
    }

    /// <summary>Reads and checks the header: every tensor's byte range must lie inside the file.</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8) throw Invalid(path, "shorter than a header");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (headerLength <= 1 || headerLength > MaxHeaderBytes || 8 + headerLength > stream.Length)
            throw Invalid(path, $"header length {headerLength} does not fit a {stream.Length}-byte file");

        byte[] headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw Invalid(path, "empty header");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw Invalid(path, "header is not a JSON object");
        }

        long dataLength = stream.Length - 8 - headerLength;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, node) in header)
        {
            try
            {
                if (key == "__metadata__")
                {
                    foreach (var (mk, mv) in node?.AsObject() ?? []) metadata[mk] = mv?.GetValue<string>() ?? "";
                    continue;
                }
                var offsets = node?["data_offsets"]?.AsArray();
                if (offsets is null || offsets.Count != 2) throw Invalid(path, $"tensor '{key}' has no data_offsets");
                long start = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
                if (start < 0 || end < start) throw Invalid(path, $"tensor '{key}' has data_offsets [{start}, {end}]");
                if (end > dataLength)
                    throw Invalid(path, $"tensor '{key}' ends at byte {end} but the data section holds {dataLength} bytes (truncated?)");
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
            {
                // A field of the wrong JSON type: name the entry rather than the parser's internals.
                throw Invalid(path, $"header entry '{key}' is malformed");
            }
        }
        return metadata;
    }

    static CheckpointException Invalid(string path, string why) => new($"'{path}' is not a valid safetensors file: {why}");
}
