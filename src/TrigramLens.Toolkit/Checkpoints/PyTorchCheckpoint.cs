using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>Reads a PyTorch zip checkpoint holding a plain <c>state_dict</c> (what <c>torch.save(model.state_dict())</c> writes).</summary>
public static class PyTorchCheckpoint
{
    /// <summary>True if the file starts like a zip archive, the container of every modern <c>torch.save</c> file.</summary>
    public static bool LooksLikePyTorch(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.Read(magic) == 4 && magic.SequenceEqual("PK\x03\x04"u8);
    }

    public static Dictionary<string, Tensor> LoadStateDict(string path)
    {
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CheckpointException($"'{path}' is not a readable PyTorch state_dict checkpoint ({FirstLine(e.Message)})", e);
        }

        var stateDict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string key || entry.Value is not Tensor tensor)
                throw new CheckpointException(
                    $"'{path}' holds {entry.Value?.GetType().Name ?? "null"} under '{entry.Key}': expected a state_dict of tensors");
            stateDict[key] = tensor;
        }
        return stateDict;
    }

    internal static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
