using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp.PyBridge;
using TrigramLens.IO;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>
/// Safetensors files with a string metadata map (<c>__metadata__</c>). Writing uses TorchSharp.PyBridge's encoder and
/// adds the metadata and an atomic write. Reading validates the whole header first (every dtype known, every shape
/// non-negative and matching its byte range, ranges contiguous, non-overlapping and covering the data exactly, as the
/// reference implementation requires) and only then allocates tensors, so a damaged or hostile file costs at most its
/// own size and ends in one <see cref="CheckpointException"/> line. (PyBridge's reader allocates whatever shape the
/// header claims before checking it, and cannot read spec-valid metadata named like a tensor field.)
/// </summary>
public static class SafetensorsFile
{
    /// <summary>The reference implementation's limit on the JSON header.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>More dimensions than this is taken as damage, not a tensor.</summary>
    const int MaxRank = 64;

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

    /// <summary>Reads every tensor and the metadata, after <see cref="ReadHeader"/> has validated the file.</summary>
    public static (Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata) Load(string path)
    {
        var header = ReadHeader(path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var stream = CheckpointFile.OpenRead(path);
            foreach (var entry in header.Entries)
            {
                var tensor = empty(entry.Shape, entry.DType).DetachFromDisposeScope();
                tensors.Add(entry.Name, tensor);
                if (entry.End == entry.Start) continue;
                stream.Position = header.DataStart + entry.Start;
                tensor.ReadBytesFromStream(stream);
            }
            foreach (var entry in header.Entries)
                if (entry.DType == ScalarType.Bool) TensorChecks.RequireBoolBytes(tensors[entry.Name], entry.Name, $"'{path}'");
            return (tensors, header.Metadata);
        }
        catch (Exception e)
        {
            foreach (var t in tensors.Values) t.Dispose();
            if (e is CheckpointException) throw;
            if (e is IOException or UnauthorizedAccessException)
                throw new CheckpointException($"cannot read '{path}' ({CheckpointText.FirstLine(e.Message)})", e);
            throw;
        }
    }

    /// <summary>Reads only the metadata (after checking the whole header).</summary>
    public static Dictionary<string, string> ReadMetadata(string path) => ReadHeader(path).Metadata;

    /// <summary>One tensor's header entry: dtype, shape and byte range relative to the start of the data.</summary>
    public sealed record Entry(string Name, ScalarType DType, long[] Shape, long Start, long End);

    /// <summary>A validated header: entries in file order, metadata, and where the data section starts.</summary>
    public sealed record Header(IReadOnlyList<Entry> Entries, Dictionary<string, string> Metadata, long DataStart);

    /// <summary>Reads and checks the header without allocating any tensor.</summary>
    public static Header ReadHeader(string path)
    {
        using var stream = CheckpointFile.OpenRead(path);
        long fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) != 8)
            throw Invalid(path, $"shorter than a header ({fileLength} bytes)");
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (declared < 2 || declared > MaxHeaderBytes || 8 + (long)declared > fileLength)
            throw Invalid(path, $"header length {declared} does not fit a {fileLength}-byte file");
        long headerLength = (long)declared;

        byte[] headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataLength = fileLength - 8 - headerLength;
        // JsonDocument checks UTF-8 only when a string is read; names and values are read below, so check it all first.
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes)) throw Invalid(path, "header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            throw Invalid(path, "header is not a JSON object");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Invalid(path, "header is not a JSON object");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name)) throw Invalid(path, $"header names '{CheckpointText.Shorten(property.Name)}' twice");
                if (property.Name == "__metadata__") ReadMetadata(property.Value, metadata, path);
                else entries.Add(ReadEntry(property.Name, property.Value, path));
            }
            CheckRanges(entries, dataLength, path);
            return new Header(entries, metadata, 8 + headerLength);
        }
    }

    static void ReadMetadata(JsonElement node, Dictionary<string, string> metadata, string path)
    {
        if (node.ValueKind != JsonValueKind.Object) throw Invalid(path, "__metadata__ is not a JSON object");
        foreach (var item in node.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"metadata '{CheckpointText.Shorten(item.Name)}' is not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Invalid(path, $"metadata names '{CheckpointText.Shorten(item.Name)}' twice");
        }
    }

    static Entry ReadEntry(string name, JsonElement node, string path)
    {
        string what = $"tensor '{CheckpointText.Shorten(name)}'";
        if (node.ValueKind != JsonValueKind.Object) throw Invalid(path, $"{what} is not a JSON object");
        if (!node.TryGetProperty("dtype", out var dtypeNode) || dtypeNode.ValueKind != JsonValueKind.String)
            throw Invalid(path, $"{what} has no dtype");
        string dtypeName = dtypeNode.GetString()!;
        if (!DTypes.TryGetValue(dtypeName, out var dtype))
            throw Invalid(path, $"{what} has dtype '{CheckpointText.Shorten(dtypeName)}', which is not one of {string.Join(", ", DTypes.Keys)}");

        if (!node.TryGetProperty("shape", out var shapeNode) || shapeNode.ValueKind != JsonValueKind.Array)
            throw Invalid(path, $"{what} has no shape");
        if (shapeNode.GetArrayLength() > MaxRank) throw Invalid(path, $"{what} has more than {MaxRank} dimensions");
        var shape = new long[shapeNode.GetArrayLength()];
        int i = 0;
        foreach (var dim in shapeNode.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out shape[i]) || shape[i] < 0)
                throw Invalid(path, $"{what} has shape {dimText(shapeNode)}, not a list of non-negative integers");
            i++;
        }

        if (!node.TryGetProperty("data_offsets", out var offsetsNode) || offsetsNode.ValueKind != JsonValueKind.Array
            || offsetsNode.GetArrayLength() != 2)
            throw Invalid(path, $"{what} has no data_offsets [start, end]");
        long start = Offset(offsetsNode[0]), end = Offset(offsetsNode[1]);
        if (start < 0 || end < start)
            throw Invalid(path, $"{what} has data_offsets {dimText(offsetsNode)}");

        long bytes;
        try
        {
            bytes = checked(shape.Aggregate(1L, (n, d) => n * d) * ElementSize(dtype));
        }
        catch (OverflowException)
        {
            throw Invalid(path, $"{what} has shape {dimText(shapeNode)}, too large for any file");
        }
        if (bytes != end - start)
            throw Invalid(path, $"{what} is {dtypeName} {dimText(shapeNode)} ({bytes} bytes) but its data_offsets span {end - start} bytes");
        return new Entry(name, dtype, shape, start, end);

        static long Offset(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v : -1;
        static string dimText(JsonElement e) => CheckpointText.Shorten(e.GetRawText());
    }

    /// <summary>The byte ranges must tile the data section: sorted, they start at 0, each begins where the last ended,
    /// and the last ends at the end of the file.</summary>
    static void CheckRanges(List<Entry> entries, long dataLength, string path)
    {
        long position = 0;
        Entry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Start).ThenBy(e => e.End))
        {
            if (entry.End > dataLength)
                throw Invalid(path, $"tensor '{CheckpointText.Shorten(entry.Name)}' ends at byte {entry.End} but the data section holds {dataLength} bytes (truncated?)");
            if (entry.Start < position)
                throw Invalid(path, $"tensors '{CheckpointText.Shorten(previous!.Name)}' and '{CheckpointText.Shorten(entry.Name)}' overlap");
            if (entry.Start > position)
                throw Invalid(path, $"{entry.Start - position} bytes before tensor '{CheckpointText.Shorten(entry.Name)}' belong to no tensor");
            position = entry.End;
            previous = entry;
        }
        if (position != dataLength)
            throw Invalid(path, $"{dataLength - position} bytes after the last tensor belong to no tensor");
    }

    /// <summary>The dtypes TorchSharp can hold, by their safetensors names.</summary>
    static readonly Dictionary<string, ScalarType> DTypes = new(StringComparer.Ordinal)
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    internal static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool => 1,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no element size known"),
    };


    static CheckpointException Invalid(string path, string why) => new($"'{path}' is not a valid safetensors file: {why}");
}
