using System.Buffers.Binary;

namespace TrigramLens.Checkpoints;

/// <summary>The two containers a checkpoint can come in.</summary>
public enum CheckpointFormat
{
    /// <summary>What <c>torch.save</c> writes: a zip archive holding a pickle and one entry per storage.</summary>
    PyTorchZip,
    /// <summary>An 8-byte little-endian header length, a JSON header, then the raw tensor data.</summary>
    Safetensors,
}

/// <summary>
/// Opens a checkpoint path and tells its format from its first bytes, turning every way a path can fail to be a
/// checkpoint (missing, a directory, unreadable, some other kind of file) into one <see cref="CheckpointException"/> line.
/// </summary>
public static class CheckpointFile
{
    /// <param name="what">what the caller expected, for messages: "checkpoint", "training checkpoint", "dataset"</param>
    public static void RequireFile(string path, string what = "checkpoint")
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CheckpointException($"no {what} path given");
        if (Directory.Exists(path)) throw new CheckpointException($"'{path}' is a directory, not a {what} file");
        if (!File.Exists(path)) throw new CheckpointException($"no {what} at '{path}'");
    }

    /// <summary>Opens the file for reading; I/O failures become a <see cref="CheckpointException"/>.</summary>
    public static FileStream OpenRead(string path, string what = "checkpoint")
    {
        RequireFile(path, what);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new CheckpointException($"cannot read '{path}' ({CheckpointText.FirstLine(e.Message)})", e);
        }
    }

    /// <summary>
    /// A zip archive is a PyTorch checkpoint; a file whose first 8 bytes are a plausible header length followed by
    /// <c>{</c> is safetensors; anything else is refused as neither.
    /// </summary>
    public static CheckpointFormat Detect(string path, string what = "checkpoint")
    {
        using var stream = OpenRead(path, what);
        Span<byte> start = stackalloc byte[9];
        int read;
        try
        {
            read = stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        }
        catch (IOException e)
        {
            throw new CheckpointException($"cannot read '{path}' ({CheckpointText.FirstLine(e.Message)})", e);
        }
        if (read >= 4 && start[..4].SequenceEqual("PK\x03\x04"u8)) return CheckpointFormat.PyTorchZip;
        if (read >= 8)
        {
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(start);
            // A header that does not fit the file is still reported as a (truncated) safetensors file.
            if (headerLength is >= 2 and <= SafetensorsFile.MaxHeaderBytes && (read < 9 || start[8] == (byte)'{'))
                return CheckpointFormat.Safetensors;
        }
        throw new CheckpointException(
            $"'{path}' is neither a PyTorch checkpoint (a zip archive) nor a safetensors file (it starts with {Describe(start[..read])})");
    }

    static string Describe(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "nothing: it is empty";
        var head = bytes[..Math.Min(bytes.Length, 8)];
        foreach (byte b in head)
            if (b is < 0x20 or > 0x7e) return "bytes " + Convert.ToHexString(head).ToLowerInvariant();
        return $"the text \"{System.Text.Encoding.ASCII.GetString(head)}\"";
    }
}
