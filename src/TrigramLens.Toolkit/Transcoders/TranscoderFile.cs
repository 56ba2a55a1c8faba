using System.Text.Json;
using System.Text.Json.Nodes;
using TrigramLens.Checkpoints;
using TrigramLens.IO;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>
/// Transcoders on disk in SAELens's layout: a folder holding <c>cfg.json</c> and <c>sae_weights.safetensors</c>
/// (<c>W_enc [d_in, d_sae]</c>, <c>b_enc [d_sae]</c>, <c>W_dec [d_sae, d_out]</c>, <c>b_dec [d_out]</c>, plus
/// <c>W_skip [d_out, d_in]</c> and <c>threshold [d_sae]</c> where the architecture has them). The config carries
/// SAELens's fields (<c>architecture</c>, <c>d_in</c>, <c>d_sae</c>, <c>d_out</c>, <c>dtype</c>, …, <c>k</c> for TopK) and
/// the hook names in <c>metadata</c>; docs/transcoders.md names the SAELens commit followed. Loading checks every
/// field and shape and names the first problem in one line.
/// </summary>
public static class TranscoderFile
{
    public const string ConfigFile = "cfg.json";
    public const string WeightsFile = "sae_weights.safetensors";
    /// <summary>The SAELens release whose format the files follow. SAELens reads a config without a version of at least
    /// 6 as a pre-6 one, which would drop the hook names from its metadata.</summary>
    public const string SaeLensFormatVersion = "6.18.0";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Writes the folder: the weights, then the config, each atomically (a reader that finds the config finds weights of
    /// the same run, or refuses a mismatch by shape). <paramref name="extraMetadata"/> goes into <c>metadata</c> beside the
    /// hook names (SAELens keeps unknown metadata keys).
    /// </summary>
    public static void Save(Transcoder transcoder, string directory, IReadOnlyDictionary<string, JsonNode?>? extraMetadata = null)
    {
        if (File.Exists(directory)) throw new IOException($"'{directory}' is a file; a transcoder is saved as a folder");
        Directory.CreateDirectory(directory);
        var tensors = transcoder.NamedParameters().ToDictionary(p => p.Name, p => (Tensor)p.Parameter.detach());
        SafetensorsFile.Save(Path.Combine(directory, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), ConfigJson(transcoder.Cfg, extraMetadata).ToJsonString(Indented) + "\n");
    }

    /// <summary>The <c>cfg.json</c> object of a config, in SAELens's field order.</summary>
    public static JsonObject ConfigJson(TranscoderConfig cfg, IReadOnlyDictionary<string, JsonNode?>? extraMetadata = null)
    {
        var metadata = new JsonObject
        {
            ["sae_lens_version"] = SaeLensFormatVersion,
            ["model_name"] = cfg.model_name,
            ["hook_name"] = cfg.hook_name,
            ["hook_head_index"] = null,
            ["hook_name_out"] = cfg.hook_name_out,
            ["hook_head_index_out"] = null,
        };
        foreach (var (key, value) in extraMetadata ?? new Dictionary<string, JsonNode?>()) metadata[key] = value?.DeepClone();
        var json = new JsonObject
        {
            ["d_in"] = cfg.d_in,
            ["d_sae"] = cfg.d_sae,
            ["dtype"] = "float32",
            ["device"] = "cpu",
            ["apply_b_dec_to_input"] = false,
            ["normalize_activations"] = "none",
            ["reshape_activations"] = "none",
            ["metadata"] = metadata,
            ["architecture"] = cfg.architecture,
            ["d_out"] = cfg.d_out,
        };
        if (cfg.k is int k)
        {
            json["k"] = k;
            json["rescale_acts_by_decoder_norm"] = false;
        }
        return json;
    }

    /// <summary>Reads a folder written by <see cref="Save"/> or by SAELens (a transcoder architecture, float weights).</summary>
    public static Transcoder Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new CheckpointException($"no transcoder folder at '{directory}'");
        string configPath = Path.Combine(directory, ConfigFile), weightsPath = Path.Combine(directory, WeightsFile);
        if (!File.Exists(configPath)) throw new CheckpointException($"'{directory}' has no {ConfigFile}");
        if (!File.Exists(weightsPath)) throw new CheckpointException($"'{directory}' has no {WeightsFile}");
        var cfg = ReadConfig(configPath);

        var (tensors, _) = SafetensorsFile.Load(weightsPath);
        try
        {
            var transcoder = new Transcoder(cfg);
            try
            {
                var expected = transcoder.NamedParameters();
                foreach (string key in tensors.Keys)
                    if (expected.All(p => p.Name != key))
                        throw new CheckpointException($"'{weightsPath}' holds '{key}', which a {cfg.architecture} does not have");
                using var _ = no_grad();
                foreach (var (name, parameter) in expected)
                {
                    if (!tensors.TryGetValue(name, out var tensor)) throw new CheckpointException($"'{weightsPath}' lacks '{name}' (a {cfg.architecture} needs it)");
                    if (!tensor.shape.SequenceEqual(parameter.shape))
                        throw new CheckpointException($"'{weightsPath}': '{name}' is [{string.Join(", ", tensor.shape)}], cfg.json implies [{string.Join(", ", parameter.shape)}]");
                    if (!tensor.is_floating_point()) throw new CheckpointException($"'{weightsPath}': '{name}' is {tensor.dtype}, not a float tensor");
                    parameter.copy_(tensor.to(ScalarType.Float32));
                }
                return transcoder;
            }
            catch
            {
                transcoder.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }

    /// <summary>Parses and checks <c>cfg.json</c>.</summary>
    public static TranscoderConfig ReadConfig(string path)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw Invalid(path, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"is not valid JSON ({e.Message.Split('\n')[0]})");
        }

        string architecture = Text(json, "architecture", path);
        var parsed = TranscoderConfig.ParseArchitecture(architecture)
            ?? throw Invalid(path, $"architecture '{architecture}' is not a transcoder ({string.Join(", ", TranscoderConfig.Architectures)})");
        int dIn = Integer(json, "d_in", path), dSae = Integer(json, "d_sae", path), dOut = Integer(json, "d_out", path);
        if (json["apply_b_dec_to_input"] is JsonNode apply && Flag(apply, "apply_b_dec_to_input", path))
            throw Invalid(path, "apply_b_dec_to_input is true, which transcoders do not support");
        if (json["normalize_activations"] is JsonNode norm && Text(json, "normalize_activations", path) != "none")
            throw Invalid(path, $"normalize_activations '{norm}' is not supported (only 'none')");
        if (json["rescale_acts_by_decoder_norm"] is JsonNode rescale && Flag(rescale, "rescale_acts_by_decoder_norm", path))
            throw Invalid(path, "rescale_acts_by_decoder_norm is true, which is not supported");
        string dtype = json["dtype"] is null ? "float32" : Text(json, "dtype", path);
        if (dtype.Replace("torch.", "") is not ("float32" or "float64" or "float16" or "bfloat16"))
            throw Invalid(path, $"dtype '{dtype}' is not a float type");
        int? k = parsed.activation == TranscoderActivation.TopK ? Integer(json, "k", path) : null;
        var metadata = json["metadata"] as JsonObject ?? throw Invalid(path, "has no metadata object (it names the hooks)");
        string hookIn = Text(metadata, "hook_name", path, "metadata.");
        string hookOut = Text(metadata, "hook_name_out", path, "metadata.");
        string? model = metadata["model_name"] is JsonValue m && m.TryGetValue<string>(out var name) ? name : null;
        try
        {
            return new TranscoderConfig(dIn, dSae, dOut, parsed.activation, hookIn, hookOut, k, parsed.skip, model);
        }
        catch (ArgumentException e)
        {
            throw Invalid(path, e.Message);
        }
    }

    static string Text(JsonObject json, string key, string path, string prefix = "") =>
        json[key] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : throw Invalid(path, $"{prefix}{key} must be a non-empty string");

    static int Integer(JsonObject json, string key, string path) =>
        json[key] is JsonValue v && v.TryGetValue<int>(out int i) && i >= 1 ? i
        : json[key] is JsonValue d && d.TryGetValue<double>(out double x) && x >= 1 && x == Math.Floor(x) && x <= int.MaxValue ? (int)x
        : throw Invalid(path, $"{key} must be a positive integer (got {json[key]?.ToJsonString() ?? "nothing"})");

    static bool Flag(JsonNode node, string key, string path) =>
        node is JsonValue v && v.TryGetValue<bool>(out bool b) ? b : throw Invalid(path, $"{key} must be true or false");

    static CheckpointException Invalid(string path, string why) =>
        new($"'{path}' {(why.StartsWith("is ", StringComparison.Ordinal) || why.StartsWith("has ", StringComparison.Ordinal) ? why : "is not a valid transcoder config: " + why)}");
}
