using System.Collections;
using System.IO.Compression;
using System.Reflection;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>
/// Reads a PyTorch zip checkpoint holding a plain <c>state_dict</c> (what <c>torch.save(model.state_dict())</c> writes).
/// TorchSharp.PyBridge unpickles it without reading any tensor data; every tensor's dtype, shape, strides and storage
/// are then checked against the archive (a contiguous tensor at offset 0 of a storage entry that holds its bytes)
/// before anything is allocated, so a damaged or hostile file costs at most its own size and ends in one
/// <see cref="CheckpointException"/> line.
/// </summary>
public static class PyTorchCheckpoint
{
    /// <summary>A state dict's pickle is a few kilobytes per tensor; a larger one is taken as damage.</summary>
    const long MaxPickleBytes = 64L << 20;
    const int MaxRank = 64;

    /// <summary>True if the file starts like a zip archive, the container of every modern <c>torch.save</c> file.</summary>
    public static bool LooksLikePyTorch(string path)
    {
        using var stream = CheckpointFile.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("PK\x03\x04"u8);
    }

    public static Dictionary<string, Tensor> LoadStateDict(string path)
    {
        if (CheckpointFile.Detect(path) != CheckpointFormat.PyTorchZip)
            throw new CheckpointException($"'{path}' is not a PyTorch checkpoint (not a zip archive)");
        using var file = CheckpointFile.OpenRead(path);
        using var archive = OpenArchive(file, path);
        var pending = Unpickle(path);
        var stateDict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            var storages = archive.Entries;
            foreach (var (key, spec) in pending)
            {
                var entry = spec.ArchiveIndex >= 0 && spec.ArchiveIndex < storages.Count ? storages[spec.ArchiveIndex]
                    : throw Invalid(path, $"'{key}' refers to a storage the archive does not hold");
                long bytes = Validate(key, spec, entry, path);
                var tensor = empty(spec.Shape, spec.DType).DetachFromDisposeScope();
                stateDict.Add(key, tensor);
                if (bytes == 0) continue;
                using var data = entry.Open();
                tensor.ReadBytesFromStream(data);
                if (spec.DType == ScalarType.Bool) TensorChecks.RequireBoolBytes(tensor, key, $"'{path}'");
            }
            return stateDict;
        }
        catch (Exception e)
        {
            foreach (var t in stateDict.Values) t.Dispose();
            if (e is CheckpointException) throw;
            if (e is IOException or InvalidDataException or UnauthorizedAccessException)
                throw Invalid(path, $"cannot read its tensor data ({CheckpointText.FirstLine(e.Message)})", e);
            throw;
        }
        finally
        {
            foreach (var spec in pending.Values) spec.Data?.Dispose();
        }
    }

    static ZipArchive OpenArchive(FileStream file, string path)
    {
        try
        {
            var archive = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
            var pickles = archive.Entries.Where(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal)).ToList();
            if (pickles.Count != 1)
            {
                archive.Dispose();
                throw Invalid(path, pickles.Count == 0 ? "the zip archive holds no data.pkl (not written by torch.save)" : $"the zip archive holds {pickles.Count} data.pkl entries");
            }
            if (pickles[0].Length > MaxPickleBytes)
            {
                archive.Dispose();
                throw Invalid(path, $"its data.pkl declares {pickles[0].Length} bytes, more than a state_dict needs");
            }
            return archive;
        }
        catch (InvalidDataException e)
        {
            throw Invalid(path, $"damaged zip archive ({CheckpointText.FirstLine(e.Message)})", e);
        }
    }

    /// <summary>What PyBridge's unpickler returns for a tensor when asked not to read it (its <c>TensorConstructorArgs</c>).</summary>
    sealed record TensorSpec(long[] Shape, long[] Stride, int StorageOffset, ScalarType DType, int ArchiveIndex, Stream? Data);

    static Dictionary<string, TensorSpec> Unpickle(string path)
    {
        Hashtable table;
        using (var stream = CheckpointFile.OpenRead(path))
        {
            try
            {
                table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true, skipTensorRead: true);
            }
            catch (OutOfMemoryException e)
            {
                // The pickle declared a string or byte length beyond what can be allocated.
                throw Invalid(path, "its pickle declares a length beyond available memory", e);
            }
            catch (Exception e)
            {
                throw Invalid(path, $"not a readable state_dict pickle ({CheckpointText.FirstLine(e.Message)})", e);
            }
        }

        var specs = new Dictionary<string, TensorSpec>(StringComparer.Ordinal);
        try
        {
            foreach (DictionaryEntry entry in table)
            {
                if (entry.Key is not string key || entry.Value is null || entry.Value.GetType().Name != "TensorConstructorArgs")
                    throw new CheckpointException(
                        $"'{path}' holds {entry.Value?.GetType().Name ?? "null"} under '{CheckpointText.Shorten(entry.Key?.ToString() ?? "null")}': expected a state_dict of tensors");
                specs[key] = Describe(entry.Value, path);
            }
            return specs;
        }
        catch
        {
            foreach (var value in table.Values)
                (value?.GetType().GetProperty("Data", BindingFlags.Public | BindingFlags.Instance)?.GetValue(value) as Stream)?.Dispose();
            throw;
        }
    }

    static TensorSpec Describe(object args, string path) => new(
        Property<long[]>(args, "Shape", path), Property<long[]>(args, "Stride", path), Property<int>(args, "StorageOffset", path),
        Property<ScalarType>(args, "DType", path), Property<int>(args, "ArchiveIndex", path), Property<Stream?>(args, "Data", path));

    /// <summary>
    /// PyBridge keeps the unread tensor's description in an internal class with public properties; reading them is the
    /// only way to check a tensor before PyBridge allocates it. A PyBridge version without them fails loudly here.
    /// </summary>
    static T Property<T>(object target, string name, string path)
    {
        var property = target.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
        if (property is null || !typeof(T).IsAssignableFrom(property.PropertyType))
            throw new CheckpointException(
                $"cannot check the tensors of '{path}': TorchSharp.PyBridge {typeof(PyTorchUnpickler).Assembly.GetName().Version} has no {name} on its tensor descriptions");
        return (T)property.GetValue(target)!;
    }

    /// <returns>the tensor's size in bytes</returns>
    static long Validate(string key, TensorSpec spec, ZipArchiveEntry storage, string path)
    {
        string what = $"'{CheckpointText.Shorten(key)}'";
        if (spec.Shape.Length > MaxRank) throw Invalid(path, $"{what} has more than {MaxRank} dimensions");
        if (spec.Stride.Length != spec.Shape.Length)
            throw Invalid(path, $"{what} has {spec.Shape.Length} dimensions but {spec.Stride.Length} strides");
        if (spec.Shape.Any(d => d < 0) || spec.Stride.Any(s => s < 0))
            throw Invalid(path, $"{what} has shape [{string.Join(", ", spec.Shape)}] and strides [{string.Join(", ", spec.Stride)}]");
        int elementSize;
        try
        {
            elementSize = SafetensorsFile.ElementSize(spec.DType);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw Invalid(path, $"{what} has dtype {spec.DType}, which TrigramLens does not read");
        }
        long bytes;
        try
        {
            bytes = checked(spec.Shape.Aggregate(1L, (n, d) => n * d) * elementSize);
        }
        catch (OverflowException)
        {
            throw Invalid(path, $"{what} has shape [{string.Join(", ", spec.Shape)}], too large for any file");
        }
        if (bytes == 0) return 0;
        if (spec.StorageOffset != 0)
            throw Invalid(path, $"{what} is a view at offset {spec.StorageOffset} of a larger storage, which TrigramLens does not read (save a state_dict of contiguous tensors)");
        long expected = 1;
        for (int d = spec.Shape.Length - 1; d >= 0; d--)
        {
            if (spec.Shape[d] != 1 && spec.Stride[d] != expected)
                throw Invalid(path, $"{what} is not contiguous (shape [{string.Join(", ", spec.Shape)}], strides [{string.Join(", ", spec.Stride)}])");
            expected *= spec.Shape[d];
        }
        if (bytes > storage.Length)
            throw Invalid(path, $"{what} needs {bytes} bytes but its storage holds {storage.Length}");
        return bytes;
    }

    static CheckpointException Invalid(string path, string why, Exception? inner = null) =>
        inner is null
            ? new($"'{path}' is not a readable PyTorch state_dict checkpoint: {why}")
            : new($"'{path}' is not a readable PyTorch state_dict checkpoint: {why}", inner);

}
