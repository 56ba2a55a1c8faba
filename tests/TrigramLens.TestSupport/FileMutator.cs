using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrigramLens.Testing;

/// <summary>
/// Seeded mutations of valid checkpoint files, for testing that readers refuse damage cleanly: byte flips,
/// truncations, forged lengths, and structure-aware edits of safetensors headers (dtypes, shapes, offsets, keys,
/// the JSON configs inside the metadata), of tensor data (NaN, infinities), and of PyTorch zip archives (the pickle's
/// integers, storages, entries). Each mutation comes with a short description, to name a failure.
/// </summary>
public sealed class FileMutator(int seed)
{
    readonly Random _random = new(seed);

    // ---- safetensors -----------------------------------------------------------------------------------------------

    public (string what, byte[] bytes) MutateSafetensors(byte[] file)
    {
        int choice = _random.Next(100);
        if (choice < 10) return Truncate(file);
        if (choice < 22) return FlipBytes(file, _random.Next(2) == 0 ? HeaderEnd(file) : file.Length);
        if (choice < 30) return ForgeHeaderLength(file);
        if (choice < 78) return EditHeader(file);
        if (choice < 92) return PoisonData(file);
        return Splice(file);
    }

    (string, byte[]) Truncate(byte[] file)
    {
        int at = _random.Next(2) == 0 ? _random.Next(Math.Min(file.Length, HeaderEnd(file) + 1)) : _random.Next(file.Length);
        return ($"truncated to {at} of {file.Length} bytes", file[..at]);
    }

    (string, byte[]) FlipBytes(byte[] file, int within)
    {
        var copy = (byte[])file.Clone();
        int n = 1 + _random.Next(4);
        var at = new List<int>();
        for (int i = 0; i < n; i++)
        {
            int p = _random.Next(Math.Max(1, within));
            copy[p] = (byte)(_random.Next(2) == 0 ? copy[p] ^ (1 << _random.Next(8)) : _random.Next(256));
            at.Add(p);
        }
        return ($"bytes changed at {string.Join(", ", at)}", copy);
    }

    (string, byte[]) ForgeHeaderLength(byte[] file)
    {
        ulong[] lengths = [0, 1, 2, 7, (ulong)file.Length, (ulong)file.Length - 8, (ulong)file.Length + 1, 100_000_000, 100_000_001,
            int.MaxValue, (ulong)int.MaxValue + 1, long.MaxValue, ulong.MaxValue, (ulong)_random.NextInt64()];
        ulong value = lengths[_random.Next(lengths.Length)];
        var copy = (byte[])file.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(copy, value);
        return ($"header length forged to {value}", copy);
    }

    (string, byte[]) Splice(byte[] file)
    {
        int at = _random.Next(2) == 0 ? file.Length : _random.Next(file.Length);
        var extra = new byte[1 + _random.Next(16)];
        _random.NextBytes(extra);
        return ($"{extra.Length} bytes inserted at {at}", [.. file[..at], .. extra, .. file[at..]]);
    }

    /// <summary>Writes NaN, an infinity or random bits into one element of a float32 tensor's data.</summary>
    (string, byte[]) PoisonData(byte[] file)
    {
        var (header, dataStart) = ReadHeader(file);
        var floats = header.Where(kv => kv.Key != "__metadata__" && kv.Value?["dtype"]?.GetValue<string>() == "F32").ToList();
        if (floats.Count == 0) return FlipBytes(file, file.Length);
        var (name, entry) = floats[_random.Next(floats.Count)];
        long start = entry!["data_offsets"]![0]!.GetValue<long>(), end = entry["data_offsets"]![1]!.GetValue<long>();
        if (end - start < 4) return FlipBytes(file, file.Length);
        long element = _random.NextInt64((end - start) / 4);
        float[] values = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(_random.Next())];
        float value = values[_random.Next(values.Length)];
        var copy = (byte[])file.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(copy.AsSpan((int)(dataStart + start + 4 * element)), value);
        return ($"'{name}'[{element}] set to {value}", copy);
    }

    /// <summary>
    /// One edit of the JSON header, or of a JSON document stored in a metadata string (a config, trainer options,
    /// a trigram list): a value replaced by a hostile one, a member removed, renamed or duplicated.
    /// </summary>
    (string, byte[]) EditHeader(byte[] file)
    {
        var (header, dataStart) = ReadHeader(file);
        byte[] data = file[(int)dataStart..];

        // Documents: the header itself, and every metadata value that is itself JSON.
        var documents = new List<(string name, JsonNode root, Action<JsonNode> store)> { ("header", header, _ => { }) };
        if (header["__metadata__"] is JsonObject meta)
            foreach (var (key, value) in meta.ToList())
                if (value?.GetValue<string>() is { } text && (text.StartsWith('{') || text.StartsWith('[')) && TryParse(text) is { } inner)
                    documents.Add(($"metadata '{key}'", inner, node => meta[key] = node.ToJsonString()));
        var (docName, root, storeBack) = documents[_random.Next(documents.Count)];

        var slots = new List<(JsonNode parent, string? key, int index)>();
        Collect(root, slots);
        if (slots.Count == 0) return FlipBytes(file, HeaderEnd(file));
        var (parent, slotKey, slotIndex) = slots[_random.Next(slots.Count)];
        string where = $"{docName} at {parent.GetPath()}{(slotKey is null ? $"[{slotIndex}]" : "." + slotKey)}";
        string what;
        int op = _random.Next(100);
        if (op < 65 || parent is JsonArray)
        {
            var replacement = Hostile();
            what = $"{where} set to {replacement?.ToJsonString() ?? "null"}";
            if (parent is JsonObject o) o[slotKey!] = replacement;
            else ((JsonArray)parent)[slotIndex] = replacement;
        }
        else if (op < 80)
        {
            ((JsonObject)parent).Remove(slotKey!);
            what = $"{where} removed";
        }
        else
        {
            var o = (JsonObject)parent;
            var value = o[slotKey!];
            o.Remove(slotKey!);
            string renamed = Rename(slotKey!);
            o[renamed] = value;
            what = $"{where} renamed to '{renamed}'";
        }
        storeBack(root);

        string json = header.ToJsonString();
        if (_random.Next(12) == 0 && header.Count > 0)
        {
            // A duplicated member, which JsonObject cannot hold: spliced into the text.
            var first = header.First();
            json = "{" + JsonSerializer.Serialize(first.Key) + ":" + (first.Value?.ToJsonString() ?? "null") + "," + json[1..];
            what += ", and the first member duplicated";
        }
        return (what, Encode(json, data));
    }

    static void Collect(JsonNode node, List<(JsonNode, string?, int)> slots)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o.ToList())
                {
                    slots.Add((o, key, -1));
                    if (child is not null) Collect(child, slots);
                }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    slots.Add((a, null, i));
                    if (a[i] is { } child) Collect(child, slots);
                }
                break;
        }
    }

    JsonNode? Hostile()
    {
        JsonNode?[] values =
        [
            null, true, false, 0, 1, -1, 2, 3, 7, 255, 1_000_000_000, int.MaxValue, (long)int.MaxValue + 1, long.MaxValue, -long.MaxValue,
            1.5, 1e30, -1e300, double.MaxValue, "", "x", "F32", "F16", "I64", "BOOL", "U8", "F8_E4M3", "relu", "gelu", "swish",
            "LN", "LNPre", "RMS", "none", "NaN", "-Infinity", "{", "[[1,2,3]]",
            new JsonArray(), new JsonArray(0), new JsonArray(-1), new JsonArray(0, 0), new JsonArray(1, 2, 3), new JsonArray(4, 3, 2, 1),
            new JsonArray(1_000_000, 1_000_000), new JsonArray(long.MaxValue, 2), new JsonArray(0, long.MaxValue), new JsonArray("a", 1),
            new JsonArray(new JsonArray(1, 2, 3), new JsonArray(1, 2)), new JsonArray(new JsonArray(1, 1, 1), new JsonArray(1, 1, 2)),
            new JsonObject(), new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(1), ["data_offsets"] = new JsonArray(0, 4) },
            new JsonObject { ["kind"] = "no_such_schedule" },
        ];
        return values[_random.Next(values.Length)]?.DeepClone();
    }

    string Rename(string key)
    {
        string[] forms = ["", "blocks.99999999999.attn.W_Q", "blocks.7.attn.W_Q", "blocks.-1.x", "blocks.0.ln1.w", "ln_final.b",
            key + "x", key.Length > 1 ? key[..^1] : "k", key.ToUpperInvariant(), "__metadata__", "tokens", "model.embed.W_E"];
        return forms[_random.Next(forms.Length)];
    }

    static JsonNode? TryParse(string text)
    {
        try { return JsonNode.Parse(text); }
        catch (JsonException) { return null; }
    }

    static int HeaderEnd(byte[] file) =>
        file.Length < 8 ? file.Length : (int)Math.Min(file.Length, 8 + (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(file), int.MaxValue));

    static (JsonObject header, long dataStart) ReadHeader(byte[] file)
    {
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (JsonNode.Parse(file.AsSpan(8, (int)n))!.AsObject(), 8 + n);
    }

    static byte[] Encode(string json, byte[] data)
    {
        var bytes = Encoding.UTF8.GetBytes(json).ToList();
        while (bytes.Count % 8 != 0) bytes.Add((byte)' ');
        var length = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Count);
        return [.. length, .. bytes, .. data];
    }

    // ---- PyTorch zip archives --------------------------------------------------------------------------------------

    public (string what, byte[] bytes) MutatePyTorch(byte[] file)
    {
        int choice = _random.Next(100);
        if (choice < 10) return FlipBytes(file, file.Length);
        if (choice < 18)
        {
            int at = _random.Next(file.Length);
            return ($"truncated to {at} of {file.Length} bytes", file[..at]);
        }
        var entries = ReadZip(file);
        string pickle = entries.Keys.Single(k => k.EndsWith("data.pkl", StringComparison.Ordinal));
        string what;
        if (choice < 58) (what, entries[pickle]) = MutatePickle(entries[pickle]);
        else if (choice < 85) what = MutateStorage(entries);
        else what = MutateEntries(entries, pickle);
        return (what, WriteZip(entries));
    }

    /// <summary>Edits a protocol-2 pickle: its small integers (shapes, strides, offsets) forged, bytes flipped, or cut.</summary>
    (string, byte[]) MutatePickle(byte[] pickle)
    {
        int choice = _random.Next(100);
        var ints = Enumerable.Range(0, pickle.Length - 1).Where(i => pickle[i] == (byte)'K').ToList();   // BININT1 n
        if (choice < 55 && ints.Count > 0)
        {
            int at = ints[_random.Next(ints.Count)];
            int[] values = [0, 1, 2, 3, 255, -1, -7, 65_536, int.MaxValue, int.MinValue, 1 << 20, _random.Next()];
            int value = values[_random.Next(values.Length)];
            if (value is >= 0 and <= 255)
            {
                var copy = (byte[])pickle.Clone();
                copy[at + 1] = (byte)value;
                return ($"pickle integer at {at} set to {value}", copy);
            }
            var forged = new byte[5];
            forged[0] = (byte)'J';   // BININT: 4-byte signed
            BinaryPrimitives.WriteInt32LittleEndian(forged.AsSpan(1), value);
            return ($"pickle integer at {at} set to {value}", [.. pickle[..at], .. forged, .. pickle[(at + 2)..]]);
        }
        if (choice < 85)
        {
            var (what, flipped) = FlipBytes(pickle, pickle.Length);
            return ("pickle " + what, flipped);
        }
        int cut = _random.Next(pickle.Length);
        return ($"pickle cut to {cut} of {pickle.Length} bytes", pickle[..cut]);
    }

    string MutateStorage(Dictionary<string, byte[]> entries)
    {
        var storages = entries.Keys.Where(k => k.Contains("/data/", StringComparison.Ordinal)).ToList();
        string name = storages[_random.Next(storages.Count)];
        byte[] data = entries[name];
        int choice = _random.Next(100);
        if (choice < 35 || data.Length < 4)
        {
            int length = data.Length == 0 ? 0 : _random.Next(data.Length);
            entries[name] = data[..length];
            return $"storage {name} cut to {length} of {data.Length} bytes";
        }
        if (choice < 50)
        {
            entries[name] = [.. data, .. new byte[1 + _random.Next(64)]];
            return $"storage {name} extended";
        }
        var copy = (byte[])data.Clone();
        int element = _random.Next(data.Length / 4);
        float[] values = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(_random.Next())];
        float value = values[_random.Next(values.Length)];
        BinaryPrimitives.WriteSingleLittleEndian(copy.AsSpan(4 * element), value);
        entries[name] = copy;
        return $"storage {name} element {element} set to {value}";
    }

    string MutateEntries(Dictionary<string, byte[]> entries, string pickle)
    {
        var names = entries.Keys.ToList();
        string name = names[_random.Next(names.Count)];
        switch (_random.Next(4))
        {
            case 0:
                entries.Remove(name);
                return $"entry {name} removed";
            case 1:
                var data = entries[name];
                entries.Remove(name);
                entries[name + "x"] = data;
                return $"entry {name} renamed";
            case 2:
                entries["other/data.pkl"] = entries[pickle];
                return "a second data.pkl added";
            default:
                var extra = new byte[_random.Next(1 << 16)];
                entries[pickle[..pickle.IndexOf('/')] + "/data/999"] = extra;
                return $"an unreferenced {extra.Length}-byte storage added";
        }
    }

    static Dictionary<string, byte[]> ReadZip(byte[] file)
    {
        using var archive = new ZipArchive(new MemoryStream(file), ZipArchiveMode.Read);
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in archive.Entries)
        {
            using var stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            entries[entry.FullName] = copy.ToArray();
        }
        return entries;
    }

    static byte[] WriteZip(Dictionary<string, byte[]> entries)
    {
        using var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, data) in entries)
            {
                using var stream = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
                stream.Write(data);
            }
        return output.ToArray();
    }
}
