using System.Buffers.Binary;
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

    /// <summary>
    /// Reads a checkpoint written by <see cref="Save"/>, checking everything a resume relies on before building anything:
    /// the config against the weights, the trainer options, the position, an optimizer moment of the parameter's shape
    /// for every parameter (finite; second moments non-negative), and a generator state libtorch accepts.
    /// </summary>
    public static TrainingCheckpoint Load(string path)
    {
        const string what = "training checkpoint";
        string source = $"'{path}'";
        if (CheckpointFile.Detect(path, what) != CheckpointFormat.Safetensors)
            throw new CheckpointException($"{source} is a PyTorch file, not a resumable training checkpoint (TrigramLens writes those as safetensors)");
        var (tensors, metadata) = SafetensorsFile.Load(path);
        HookedTransformer? model = null;
        var moments = new Dictionary<string, AdamMoments>();
        try
        {
            string Require(string key) => metadata.TryGetValue(key, out var v)
                ? v : throw new CheckpointException($"{source} is not a resumable training checkpoint (no '{key}' in its metadata)");
            var config = ModelCheckpoint.ParseConfig(Require(ModelCheckpoint.ConfigKey), path);
            var options = JsonSerializer.Deserialize<TrainerOptions>(Require(OptionsKey), Json)
                ?? throw new CheckpointException($"{source} has empty trainer options");
            if (options.Schedule is null) throw new CheckpointException($"{source} has trainer options without a learning-rate schedule");
            options.Validate();
            var saved = JsonSerializer.Deserialize<SavedState>(Require(StateKey), Json)
                ?? throw new CheckpointException($"{source} has an empty training state");
            Check(saved, source);

            foreach (var key in tensors.Keys)
                if (!key.StartsWith(ModelPrefix, StringComparison.Ordinal) && !key.StartsWith(ExpAvgPrefix, StringComparison.Ordinal)
                    && !key.StartsWith(ExpAvgSqPrefix, StringComparison.Ordinal) && key != GeneratorKey)
                    throw new CheckpointException($"{source} holds '{CheckpointText.Shorten(key)}', which no training checkpoint has");
            var weights = tensors.Where(kv => kv.Key.StartsWith(ModelPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[ModelPrefix.Length..], kv => kv.Value);
            ConfigInference.RequireFits(config, weights, source);
            model = new HookedTransformer(config);
            StateDictLoader.Load(model, weights, source);

            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var name in saved.OptimizerSteps!.Keys)
                if (!parameters.ContainsKey(name))
                    throw new CheckpointException($"{source} has optimizer state for '{CheckpointText.Shorten(name)}', which the model has no parameter of");
            foreach (var (name, parameter) in parameters)
            {
                if (!saved.OptimizerSteps.TryGetValue(name, out long step) || step < 0)
                    throw new CheckpointException($"{source} lacks the optimizer step count of '{name}'");
                if (!tensors.TryGetValue(ExpAvgPrefix + name, out var expAvg) || !tensors.TryGetValue(ExpAvgSqPrefix + name, out var expAvgSq))
                    throw new CheckpointException($"{source} lacks the optimizer moments of '{name}'");
                foreach (var (key, moment) in new[] { (ExpAvgPrefix + name, expAvg), (ExpAvgSqPrefix + name, expAvgSq) })
                {
                    if (!moment.shape.SequenceEqual(parameter.shape) || moment.dtype != parameter.dtype)
                        throw new CheckpointException(
                            $"'{key}' in {source} is {moment.dtype} {StateDictLoader.Shape(moment)}; the parameter is {parameter.dtype} {StateDictLoader.Shape(parameter)}");
                    TensorChecks.RequireFinite(moment, key, source);
                }
                using (NewDisposeScope())
                    if (expAvgSq.numel() > 0 && expAvgSq.min().item<float>() < 0)
                        throw new CheckpointException($"'{ExpAvgSqPrefix + name}' in {source} holds negative second moments");
                moments[name] = new AdamMoments(step, expAvg.clone().DetachFromDisposeScope(), expAvgSq.clone().DetachFromDisposeScope());
            }

            byte[] generator = tensors.TryGetValue(GeneratorKey, out var g) ? GeneratorState(g, source) : [];
            if (options.Shuffle && generator.Length == 0)
                throw new CheckpointException($"{source} shuffles but holds no generator state");
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
        catch (Exception e)
        {
            model?.Dispose();
            foreach (var m in moments.Values) m.Dispose();
            if (e is JsonException or ArgumentException or NotSupportedException or InvalidOperationException or FormatException)
                throw new CheckpointException($"{source} has an unreadable training state ({CheckpointText.FirstLine(e.Message)})", e);
            throw;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    static void Check(SavedState saved, string source)
    {
        if (saved.OptimizerSteps is null) throw new CheckpointException($"{source} has a training state without optimizer steps");
        if (saved.Epoch < 0 || saved.StepInEpoch < 0 || saved.GlobalStep < 0 || saved.EpochTargets < 0
            || !double.IsFinite(saved.EpochLossSum) || saved.EpochLossSum < 0)
            throw new CheckpointException(
                $"{source} has an impossible training position (epoch {saved.Epoch}, step {saved.StepInEpoch}, global step {saved.GlobalStep}, {saved.EpochTargets} targets, loss sum {saved.EpochLossSum})");
    }

    /// <summary>
    /// libtorch's CPU generator state: its size, and the Mersenne twister's position fields, which libtorch's
    /// <c>set_state</c> checks only loosely (a <c>next</c> near the end with a large <c>left</c> reads past the state array).
    /// </summary>
    static byte[] GeneratorState(Tensor state, string source)
    {
        if (state.dtype != ScalarType.Byte || state.dim() != 1 || state.shape[0] != GeneratorStateBytes.Value)
            throw new CheckpointException(
                $"'{GeneratorKey}' in {source} is {state.dtype} {StateDictLoader.Shape(state)}; libtorch's generator state is Byte [{GeneratorStateBytes.Value}]");
        byte[] bytes = state.bytes.ToArray();
        int left = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        int seeded = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        ulong next = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16));
        const int n = 624;   // MERSENNE_STATE_N
        bool fresh = left == 1 && next == 0;
        if (seeded != 1 || !(fresh || left is >= 1 and <= n && next <= n && (ulong)left + next == n + 1))
            throw new CheckpointException($"'{GeneratorKey}' in {source} is not a valid generator state (left {left}, next {next}, seeded {seeded})");
        return bytes;
    }

    static readonly Lazy<long> GeneratorStateBytes = new(() =>
    {
        using var generator = new TorchSharp.torch.Generator(0);
        using var state = generator.get_state();
        return state.numel();
    });

    /// <summary>Disposes the optimizer state; the model belongs to whoever took it.</summary>
    public void Dispose() => State.Dispose();

    sealed record SavedState(int Epoch, int StepInEpoch, long GlobalStep, double EpochLossSum, long EpochTargets,
        Dictionary<string, long> OptimizerSteps);
}
