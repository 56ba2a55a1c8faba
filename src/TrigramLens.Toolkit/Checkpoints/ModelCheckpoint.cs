using TrigramLens.Model;
using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Checkpoints;

/// <summary>How to build a model from a checkpoint.</summary>
/// <param name="FoldValueBiases">Apply TransformerLens's <c>fold_value_biases</c> after loading.</param>
/// <param name="ActFn">Activation to assume when the checkpoint does not record its config (PyTorch state dicts).</param>
public sealed record CheckpointLoadOptions(bool FoldValueBiases = false, ActivationFunction ActFn = ActivationFunction.Relu);

/// <summary>
/// Loads and saves whole models: PyTorch zip state dicts (read) and safetensors with the config as metadata
/// (read and write). Keys are TransformerLens's, so files move between TrigramLens and TransformerLens unchanged.
/// </summary>
public static class ModelCheckpoint
{
    /// <summary>Metadata key holding the config's JSON in files written by <see cref="Save"/>.</summary>
    public const string ConfigKey = "trigramlens.config";

    public static HookedTransformer Load(string path, CheckpointLoadOptions? options = null)
    {
        options ??= new CheckpointLoadOptions();
        TorchRuntime.EnsureLoaded();
        if (!File.Exists(path)) throw new CheckpointException($"no checkpoint at '{path}'");

        Dictionary<string, Tensor> stateDict;
        HookedTransformerConfig config;
        if (PyTorchCheckpoint.LooksLikePyTorch(path))
        {
            stateDict = PyTorchCheckpoint.LoadStateDict(path);
            config = ConfigInference.Infer(stateDict, $"'{path}'", options.ActFn);
        }
        else
        {
            (stateDict, var metadata) = SafetensorsFile.Load(path);
            config = metadata.TryGetValue(ConfigKey, out var json)
                ? ParseConfig(json, path)
                : ConfigInference.Infer(stateDict, $"'{path}'", options.ActFn);
        }

        var loaded = options.FoldValueBiases ? ValueBiasFolding.Fold(stateDict) : stateDict;
        try
        {
            var model = new HookedTransformer(config);
            try
            {
                StateDictLoader.Load(model, loaded, $"'{path}'");
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
            // Folding shares the untouched tensors; disposing a tensor twice is harmless.
            foreach (var tensor in stateDict.Values.Concat(loaded.Values)) tensor.Dispose();
        }
    }

    /// <summary>Reads only the metadata of a safetensors checkpoint (empty for PyTorch files).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) =>
        PyTorchCheckpoint.LooksLikePyTorch(path) ? new Dictionary<string, string>() : SafetensorsFile.ReadMetadata(path);

    /// <summary>Writes the model's state dict (TransformerLens keys) and config atomically to a safetensors file.</summary>
    public static void Save(HookedTransformer model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["format"] = "pt", [ConfigKey] = model.Cfg.ToJson() };
        SafetensorsFile.Save(path, model.state_dict(), meta);
    }

    static HookedTransformerConfig ParseConfig(string json, string path)
    {
        try
        {
            return HookedTransformerConfig.FromJson(json);
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException)
        {
            throw new CheckpointException($"'{path}' has an unreadable model config in its metadata ({e.Message})");
        }
    }
}
