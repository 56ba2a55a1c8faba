using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Kernels;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Training;

/// <summary>
/// Trains any <see cref="HookedTransformer"/> on any token tensor by next-token cross-entropy over all positions:
/// epochs of batches (stored order, or reshuffled each epoch from a seeded generator), AdamW, a learning-rate
/// schedule. Batches are views of the token tensor (or of one permuted copy per epoch), so the data pipeline copies
/// nothing per step. Same model, tokens and options give bit-identical weights, also across a <see cref="CaptureState"/>
/// / <see cref="Restore"/> round trip at any step: with several <see cref="TrainerOptions.Shards"/> on any number of
/// threads, with one shard on the same libtorch thread count.
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly HookedTransformer _model;
    readonly Tensor _tokens;        // [rows, seq] int64, borrowed
    readonly FlatAdamW _optimizer;
    readonly Parameter[] _parameters;
    readonly string[] _parameterNames;
    readonly Generator? _shuffle;
    readonly ShardedBackward? _sharded;
    Tensor? _permuted;              // [rows, seq], this epoch's order when shuffling
    int _preparedEpoch = -1;
    byte[] _epochStartGeneratorState = [];
    double _epochLossSum;
    long _epochTargets;

    /// <param name="threads">
    /// Workers that run the <see cref="TrainerOptions.Shards"/> concurrently, each with one libtorch thread (the caller's
    /// thread is one of them: give it one libtorch thread too); at most one per shard. The weights do not depend on it.
    /// Unused with a single shard, which runs on the caller's libtorch threads.
    /// </param>
    public Trainer(HookedTransformer model, Tensor tokens, TrainerOptions options, int threads = 1)
    {
        if (threads < 1) throw new ArgumentException($"threads must be positive (got {threads})");
        options.Validate();
        if (tokens.dim() != 2 || tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"tokens must be [rows, seq] int64; got [{string.Join(", ", tokens.shape)}] {tokens.dtype}");
        if (tokens.shape[1] < 2) throw new ArgumentException("sequences need at least 2 tokens to have a next-token target");
        if (tokens.shape[1] > model.Cfg.n_ctx) throw new ArgumentException($"sequence length {tokens.shape[1]} exceeds n_ctx = {model.Cfg.n_ctx}");
        long rows = tokens.shape[0];
        if (rows < (options.DropLast ? options.BatchSize : 1))
            throw new ArgumentException($"{rows} sequences do not make one batch of {options.BatchSize}");

        _model = model;
        _tokens = tokens;
        Options = options;
        var named = model.named_parameters().ToArray();
        _parameterNames = named.Select(p => p.name).ToArray();
        _parameters = named.Select(p => p.parameter).ToArray();
        _optimizer = new FlatAdamW(_parameters, options.Beta1, options.Beta2, options.Eps, options.WeightDecay);
        if (options.Shuffle) _shuffle = new Generator(options.ShuffleSeed);
        Workers = Math.Min(threads, options.Shards);
        if (options.Shards > 1) _sharded = new ShardedBackward(model, _parameters, options.Shards, Workers);
        StepsPerEpoch = (int)(options.DropLast ? rows / options.BatchSize : (rows + options.BatchSize - 1) / options.BatchSize);
    }

    public HookedTransformer Model => _model;
    public TrainerOptions Options { get; }
    public TrainingPosition Position { get; private set; }
    public int StepsPerEpoch { get; }
    /// <summary>Threads that run the shards: the requested count, at most one per shard.</summary>
    public int Workers { get; }
    public long TotalSteps => (long)StepsPerEpoch * Options.Epochs;
    public bool IsFinished => Position.Epoch >= Options.Epochs;

    /// <summary>The rate of the next step.</summary>
    public double LearningRate => Options.Schedule.At(Math.Min(Position.Epoch, Options.Epochs - 1), Position.GlobalStep, TotalSteps);

    /// <summary>
    /// Runs the current epoch to its end (from wherever it stands). Returns its summary, or null when
    /// <paramref name="cancellation"/> fired first; the position then points at the next step, ready for
    /// <see cref="CaptureState"/>.
    /// </summary>
    public EpochSummary? RunEpoch(Action<StepReport>? onStep = null, CancellationToken cancellation = default)
    {
        if (IsFinished) throw new InvalidOperationException($"training is finished ({Options.Epochs} epochs)");
        var tokens = PrepareEpoch();
        int epoch = Position.Epoch;
        long rows = tokens.shape[0], targetsPerRow = tokens.shape[1] - 1, targetsThisCall = 0;
        double lr = LearningRate;
        var clock = Stopwatch.StartNew();
        while (Position.StepInEpoch < StepsPerEpoch)
        {
            if (cancellation.IsCancellationRequested) return null;
            long start = (long)Position.StepInEpoch * Options.BatchSize;
            long size = Math.Min(Options.BatchSize, rows - start);
            lr = LearningRate;
            double loss = Step(tokens.narrow(0, start, size), lr);
            long targets = size * targetsPerRow;
            _epochLossSum += loss * targets;
            _epochTargets += targets;
            targetsThisCall += targets;
            Position = Position with { StepInEpoch = Position.StepInEpoch + 1, GlobalStep = Position.GlobalStep + 1 };
            onStep?.Invoke(new StepReport(Position, StepsPerEpoch, loss, lr, targetsThisCall / clock.Elapsed.TotalSeconds));
        }

        double seconds = clock.Elapsed.TotalSeconds;
        var summary = new EpochSummary(epoch, _epochLossSum / _epochTargets, lr, _epochTargets, seconds, targetsThisCall / seconds);
        Position = new TrainingPosition(epoch + 1, 0, Position.GlobalStep);
        _epochLossSum = 0;
        _epochTargets = 0;
        return summary;
    }

    /// <summary>One AdamW step at rate <paramref name="learningRate"/> on <paramref name="batch"/> [batch, seq]; returns its loss.
    /// Does not move the position (for benchmarks and tests). The step runs the hand-written kernels
    /// (<see cref="HandWrittenKernels"/>) where no hook asks for the hooked path.</summary>
    public double Step(Tensor batch, double learningRate)
    {
        using var scope = NewDisposeScope();
        using var kernels = HandWrittenKernels.Use();
        double loss;
        if (_sharded is null)
        {
            var value = NextTokenLoss.Compute(_model, batch);
            _optimizer.ZeroGrad();
            value.backward();
            loss = value.item<float>();
            _optimizer.Step(learningRate);
        }
        else
        {
            (loss, var gradient) = _sharded.Backward(batch);
            using (gradient) _optimizer.Step(learningRate, gradient);
        }
        return loss;
    }

    /// <summary>This epoch's rows in training order: the stored tensor, or its permutation drawn at the epoch start.</summary>
    Tensor PrepareEpoch()
    {
        if (_shuffle is null) return _tokens;
        if (_preparedEpoch != Position.Epoch)
        {
            _epochStartGeneratorState = GeneratorState(_shuffle);
            using var scope = NewDisposeScope();
            var order = randperm(_tokens.shape[0], generator: _shuffle);
            _permuted?.Dispose();
            _permuted = _tokens.index_select(0, order).DetachFromDisposeScope();
            _preparedEpoch = Position.Epoch;
        }
        return _permuted!;
    }

    /// <summary>A copy of everything needed to continue from here (weights are the model's own).</summary>
    public TrainingState CaptureState()
    {
        var moments = new Dictionary<string, AdamMoments>();
        for (int i = 0; i < _parameters.Length; i++) moments[_parameterNames[i]] = _optimizer.Moments(i);
        // Once this epoch's permutation is drawn, the generator has moved on; save the state it was drawn from.
        bool drawn = _preparedEpoch == Position.Epoch;
        return new TrainingState
        {
            Position = Position,
            EpochLossSum = _epochLossSum,
            EpochTargets = _epochTargets,
            EpochStartGeneratorState = _shuffle is null ? [] : drawn ? _epochStartGeneratorState : GeneratorState(_shuffle),
            Optimizer = moments,
        };
    }

    /// <summary>Continues from <paramref name="state"/> (captured from a trainer with the same options and parameters);
    /// the model must already hold the weights saved with it.</summary>
    public void Restore(TrainingState state)
    {
        if (state.Position.Epoch > Options.Epochs || state.Position.StepInEpoch >= StepsPerEpoch && state.Position.StepInEpoch != 0)
            throw new ArgumentException($"state at epoch {state.Position.Epoch}, step {state.Position.StepInEpoch} does not fit {Options.Epochs} epochs of {StepsPerEpoch} steps");
        var missing = _parameterNames.Where(n => !state.Optimizer.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"optimizer state lacks parameter '{missing[0]}'");

        var moments = _parameterNames.Select(n => state.Optimizer[n]).ToArray();
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (!moments[i].ExpAvg.shape.SequenceEqual(_parameters[i].shape) || !moments[i].ExpAvgSq.shape.SequenceEqual(_parameters[i].shape))
                throw new ArgumentException($"optimizer state of '{_parameterNames[i]}' is [{string.Join(", ", moments[i].ExpAvg.shape)}], the parameter [{string.Join(", ", _parameters[i].shape)}]");
        }
        _optimizer.SetMoments(moments);
        Position = state.Position;
        _epochLossSum = state.EpochLossSum;
        _epochTargets = state.EpochTargets;
        if (_shuffle is not null)
        {
            using var bytes = tensor(state.EpochStartGeneratorState, ScalarType.Byte);
            _shuffle.set_state(bytes);
        }
        _preparedEpoch = -1;
    }

    static byte[] GeneratorState(Generator generator)
    {
        using var state = generator.get_state();
        return state.bytes.ToArray();
    }

    public void Dispose()
    {
        _sharded?.Dispose();
        _optimizer.Dispose();
        _shuffle?.Dispose();
        _permuted?.Dispose();
    }
}
