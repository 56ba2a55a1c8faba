using TrigramLens.Model;
using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>
/// Loads and saves whole models: PyTorch zip state dicts (read) and safetensors with the config as metadata
/// (read and write). Keys are TransformerLens's, so files move between TrigramLens and TransformerLens unchanged.
/// Every way a file can be unfit ends in one <see cref="CheckpointException"/> line, before any model is built.
/// </summary>
public static class ModelCheckpoint
{
    /// <summary>Metadata key holding the config's JSON in files written by <see cref="Save"/>.</summary>
    public const string ConfigKey = "trigramlens.config";

    public static HookedTransformer Load(string path, CheckpointLoadOptions? options = null)
    {
        options ??= new CheckpointLoadOptions();
        TorchRuntime.EnsureLoaded();
        string source = $"'{path}'";

        var (stateDict, metadata) = CheckpointFile.Detect(path) == CheckpointFormat.PyTorchZip
            ? (PyTorchCheckpoint.LoadStateDict(path), new Dictionary<string, string>())
            : SafetensorsFile.Load(path);
        try
        {
            var config = metadata.TryGetValue(ConfigKey, out var json) ? ParseConfig(json, path)
                : options.Config ?? ConfigInference.Infer(stateDict, source, options.ActFn, options.NormalizationType);
            ConfigInference.RequireFits(config, stateDict, source);

            var model = new HookedTransformer(config);
            try
            {
                StateDictLoader.Load(model, stateDict, source);
                // Folded after the checks, on tensors known to fit each other.
                if (options.FoldValueBiases)
                    using (NewDisposeScope()) StateDictLoader.Load(model, ValueBiasFolding.Fold(model.state_dict()), source);
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var tensor in stateDict.Values) tensor.Dispose();
        }
    }

    /// <summary>Reads only the metadata of a safetensors checkpoint (empty for PyTorch files).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) =>
        CheckpointFile.Detect(path) == CheckpointFormat.PyTorchZip ? new Dictionary<string, string>() : SafetensorsFile.ReadMetadata(path);

    /// <summary>Writes the model's state dict (TransformerLens keys) and config atomically to a safetensors file.</summary>
    public static void Save(HookedTransformer model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["format"] = "pt", [ConfigKey] = model.Cfg.ToJson() };
        SafetensorsFile.Save(path, model.state_dict(), meta);
    }

    internal static HookedTransformerConfig ParseConfig(string json, string path)
    {
        try
        {
            return HookedTransformerConfig.FromJson(json);
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new CheckpointException($"'{path}' has an unreadable model config in its metadata ({CheckpointText.FirstLine(e.Message)})");
        }
    }
}
