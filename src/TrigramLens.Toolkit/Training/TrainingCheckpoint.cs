using System.Text.Json;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Training;

/// <summary>
/// A resumable training checkpoint in one safetensors file, written atomically: the model's state dict under
/// <c>model.</c> + its TransformerLens name, AdamW's moments under <c>optimizer.exp_avg.</c> / <c>optimizer.exp_avg_sq.</c>
/// + the parameter name, the shuffle generator's state as <c>generator_state</c> (uint8); in the metadata the model
/// config, the trainer options, the position and step counts (JSON), and whatever the caller adds (e.g. its recipe).
/// </summary>
public sealed class TrainingCheckpoint : IDisposable
{
    public const string OptionsKey = "trigramlens.trainer_options";
    public const string StateKey = "trigramlens.training_state";
    const string ModelPrefix = "model.";
    const string ExpAvgPrefix = "optimizer.exp_avg.";
    const string ExpAvgSqPrefix = "optimizer.exp_avg_sq.";
    const string GeneratorKey = "generator_state";

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    TrainingCheckpoint(HookedTransformer model, TrainerOptions options, TrainingState state, IReadOnlyDictionary<string, string> metadata)
    {
        Model = model;
        Options = options;
        State = state;
        Metadata = metadata;
    }

    /// <summary>The model with the saved weights; owned by the caller once loaded.</summary>
    public HookedTransformer Model { get; }
    public TrainerOptions Options { get; }
    public TrainingState State { get; }
    /// <summary>All metadata, the caller's included.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static void Save(string path, Trainer trainer, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = NewDisposeScope();
        using var state = trainer.CaptureState();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, value) in trainer.Model.state_dict()) tensors[ModelPrefix + name] = value.detach();
        foreach (var (name, moments) in state.Optimizer)
        {
            tensors[ExpAvgPrefix + name] = moments.ExpAvg;
            tensors[ExpAvgSqPrefix + name] = moments.ExpAvgSq;
        }
        if (state.EpochStartGeneratorState.Length > 0) tensors[GeneratorKey] = tensor(state.EpochStartGeneratorState, ScalarType.Byte);

        var record = new SavedState(state.Position.Epoch, state.Position.StepInEpoch, state.Position.GlobalStep,
            state.EpochLossSum, state.EpochTargets, state.Optimizer.ToDictionary(kv => kv.Key, kv => kv.Value.Step));
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = "pt",
            [ModelCheckpoint.ConfigKey] = trainer.Model.Cfg.ToJson(),
            [OptionsKey] = JsonSerializer.Serialize(trainer.Options, Json),
            [StateKey] = JsonSerializer.Serialize(record, Json),
        };
        SafetensorsFile.Save(path, tensors, meta);
    }

    public static TrainingCheckpoint Load(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"no training checkpoint at '{path}'");
        var (tensors, metadata) = SafetensorsFile.Load(path);
        HookedTransformer? model = null;
        try
        {
            string Require(string key) => metadata.TryGetValue(key, out var v)
                ? v : throw new CheckpointException($"'{path}' is not a resumable training checkpoint (no '{key}' in its metadata)");
            var config = HookedTransformerConfig.FromJson(Require(ModelCheckpoint.ConfigKey));
            var options = JsonSerializer.Deserialize<TrainerOptions>(Require(OptionsKey), Json)
                ?? throw new CheckpointException($"'{path}' has empty trainer options");
            var saved = JsonSerializer.Deserialize<SavedState>(Require(StateKey), Json)
                ?? throw new CheckpointException($"'{path}' has an empty training state");

            model = new HookedTransformer(config);
            var weights = tensors.Where(kv => kv.Key.StartsWith(ModelPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[ModelPrefix.Length..], kv => kv.Value);
            StateDictLoader.Load(model, weights, $"'{path}'");

            var moments = new Dictionary<string, AdamMoments>();
            foreach (var (name, step) in saved.OptimizerSteps)
            {
                if (!tensors.TryGetValue(ExpAvgPrefix + name, out var expAvg) || !tensors.TryGetValue(ExpAvgSqPrefix + name, out var expAvgSq))
                    throw new CheckpointException($"'{path}' lacks the optimizer moments of '{name}'");
                moments[name] = new AdamMoments(step, expAvg.clone().DetachFromDisposeScope(), expAvgSq.clone().DetachFromDisposeScope());
            }
            byte[] generator = tensors.TryGetValue(GeneratorKey, out var g) ? g.bytes.ToArray() : [];
            var state = new TrainingState
            {
                Position = new TrainingPosition(saved.Epoch, saved.StepInEpoch, saved.GlobalStep),
                EpochLossSum = saved.EpochLossSum,
                EpochTargets = saved.EpochTargets,
                EpochStartGeneratorState = generator,
                Optimizer = moments,
            };
            return new TrainingCheckpoint(model, options, state, metadata);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            model?.Dispose();
            throw new CheckpointException($"'{path}' has an unreadable training state ({e.Message})");
        }
        catch
        {
            model?.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Disposes the optimizer state; the model belongs to whoever took it.</summary>
    public void Dispose() => State.Dispose();

    sealed record SavedState(int Epoch, int StepInEpoch, long GlobalStep, double EpochLossSum, long EpochTargets,
        Dictionary<string, long> OptimizerSteps);
}
