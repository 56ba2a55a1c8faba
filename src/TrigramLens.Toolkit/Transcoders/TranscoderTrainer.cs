using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Runtime;
using TrigramLens.Training;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>
/// Trains a transcoder from a model's activations, streamed: the caller's batch source draws token batches from a
/// generator the trainer seeds, the model runs on them, and the (input hook, output hook) pairs of every position pass
/// through a bounded shuffling buffer (<see cref="TranscoderTrainingOptions.BufferPositions"/>) into the steps; no
/// dataset is cached. Each step: the closed-form gradient of the loss (<see cref="TranscoderLoss"/>) over the batch,
/// cut into chunks of <see cref="TranscoderTrainingOptions.ChunkSize"/> positions (small enough that a chunk's
/// <c>[positions, d_sae]</c> intermediates stay in cache) computed on single-threaded workers and summed in chunk order; Adam (one update over all parameters); learning-rate warm-up and linear decay; L1 warm-up; AuxK or dead-feature
/// resampling. Every random draw comes from a generator seeded from <see cref="TranscoderTrainingOptions.Seed"/>, so
/// the same options, model and source give bit-identical weights on any number of threads. Knows nothing of the task:
/// the source, the model and the two hook names are the caller's.
/// </summary>
public sealed class TranscoderTrainer : IDisposable
{
    readonly HookedTransformer _model;
    readonly Func<Generator, Tensor> _batches;
    readonly TranscoderTrainingOptions _options;
    readonly string _hookIn, _hookOut;
    readonly Generator _data, _shuffle, _init;
    readonly ActivationBuffer _buffer;
    readonly Transcoder _training;            // in normalised units
    readonly Parameter? _logThreshold;        // JumpReLU trains log θ
    readonly Parameter[] _parameters;
    readonly FlatAdamW _adam;
    readonly TorchWorkers _workers;
    readonly Tensor _sinceFired;              // [d_sae] int64: training positions since each feature last fired
    readonly double _inputScale, _outputScale, _variance;
    readonly Scalar _inScale, _outScale;
    readonly Tensor _inputMean;               // [d_in], subtracted before scaling (zeros without normalisation)
    int _resampled;

    /// <param name="batches">draws a batch of token sequences [rows, pos] int64 from the generator it is given</param>
    /// <param name="threads">workers the chunks are spread over; the weights do not depend on it</param>
    /// <param name="modelName">recorded in the transcoder's config (SAELens's <c>model_name</c>)</param>
    public TranscoderTrainer(HookedTransformer model, string hookIn, string hookOut, Func<Generator, Tensor> batches,
        TranscoderTrainingOptions options, int threads = 2, string? modelName = null)
    {
        options.Validate();
        if (threads < 1) throw new ArgumentException($"threads must be positive (got {threads})");
        _hookIn = ActivationNames.Get(hookIn);
        _hookOut = ActivationNames.Get(hookOut);
        model.GetHookPoint(_hookIn);
        model.GetHookPoint(_hookOut);
        _model = model;
        _batches = batches;
        _options = options;
        // Separate streams, so that e.g. a larger buffer does not change the initial weights.
        _data = new Generator((ulong)options.Seed);
        _shuffle = new Generator((ulong)options.Seed + 0x5851F42D4C957F2DUL);
        _init = new Generator((ulong)options.Seed + 0x14057B7EF767814FUL);
        try
        {
            _buffer = new ActivationBuffer(options.BufferPositions, Produce, _shuffle);
            var (x0, y0) = _buffer.Contents;
            using (var scope = NewDisposeScope())
            {
                _inputMean = (options.NormaliseActivations ? x0.mean([0]) : zeros(x0.shape[1])).DetachFromDisposeScope();
                _inputScale = options.NormaliseActivations ? Math.Sqrt(x0.shape[1]) / (x0 - _inputMean).norm(1).mean().item<float>() : 1;
                _outputScale = options.NormaliseActivations ? Math.Sqrt(y0.shape[1]) / y0.norm(1).mean().item<float>() : 1;
                _inScale = _inputScale.ToScalar();
                _outScale = _outputScale.ToScalar();
                var y = y0 * _outScale;
                _variance = (y - y.mean([0])).Squared().sum(1).mean().item<float>();
            }
            if (!(_variance > 0)) throw new ArgumentException($"{_hookOut} does not vary over the batches: there is nothing to reconstruct");

            var cfg = new TranscoderConfig((int)x0.shape[1], options.Width, (int)y0.shape[1], options.Activation, _hookIn, _hookOut,
                options.Activation == TranscoderActivation.TopK ? options.K : null, options.Skip, modelName);
            _training = new Transcoder(cfg);
            if (options.Activation == TranscoderActivation.JumpRelu)
                {
                using var logTheta = Math.Log(options.JumpReluInitialThreshold).ToScalar();
                _logThreshold = new Parameter(full(options.Width, logTheta).DetachFromDisposeScope());
            }
            Initialise(y0);
            _parameters = TranscoderLoss.Parameters(_training, _logThreshold);
            _adam = new FlatAdamW(_parameters, options.Beta1, options.Beta2, options.AdamEps, weightDecay: 0);
            _workers = new TorchWorkers(threads);
            _sinceFired = zeros(options.Width, ScalarType.Int64).DetachFromDisposeScope();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public TranscoderConfig Config => _training.Cfg;
    public long Step { get; private set; }

    /// <summary>The variance of the (normalised) target the squared error is divided by.</summary>
    public double TargetVariance => _variance;

    (Tensor x, Tensor y) Produce()
    {
        using var _ = no_grad();
        var tokens = _batches(_data);
        var (logits, cache) = _model.RunWithCache(tokens, _hookIn, _hookOut);
        logits.Dispose();
        using (cache)
        {
            var x = cache[_hookIn];
            var y = cache[_hookOut];
            return (x.reshape(-1, x.shape[^1]).clone(), y.reshape(-1, y.shape[^1]).clone());
        }
    }

    /// <summary>Decoder rows: random directions of norm <see cref="TranscoderTrainingOptions.DecoderInitNorm"/>; encoder: their
    /// transpose (or random directions when d_in ≠ d_out); biases zero except b_dec, the target's mean.</summary>
    void Initialise(Tensor y0)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var cfg = _training.Cfg;
        using var norm = _options.DecoderInitNorm.ToScalar();
        var dec = randn(cfg.d_sae, cfg.d_out, generator: _init);
        dec = dec / dec.norm(1, keepdim: true) * norm;
        _training.W_dec.copy_(dec);
        if (cfg.d_in == cfg.d_out) _training.W_enc.copy_(dec.t());
        else
        {
            var enc = randn(cfg.d_in, cfg.d_sae, generator: _init);
            _training.W_enc.copy_(enc / enc.norm(0, keepdim: true) * norm);
        }
        _training.b_dec.copy_((y0 * _outScale).mean([0]));
        if (!_options.DataInit) return;

        var (x, y) = _buffer.Contents;
        var xn = (x - _inputMean).mul_(_inScale);
        var error = (y * _outScale) - _training.b_dec;                              // [n, d_out]
        var weights = error.Squared().sum(1);
        var picks = multinomial(weights, Math.Min(cfg.d_sae, x.shape[0]), replacement: false, generator: _init);
        if (picks.shape[0] < cfg.d_sae) picks = cat([picks, multinomial(weights, cfg.d_sae - picks.shape[0], replacement: true, generator: _init)]);
        // Every encoder column has the same norm 1/M (M the mean input norm), so a position's largest pre-activations are
        // its most similar seeds; the decoder row makes the seed's own reconstruction exact.
        var inputs = xn.index_select(0, picks);                                    // [d_sae, d_in]
        var norms = inputs.norm(1, keepdim: true).AtLeast(1e-12);                // [d_sae, 1]
        var meanNorm = xn.norm(1).mean();
        _training.W_enc.copy_((inputs / norms / meanNorm).t());
        _training.W_dec.copy_(error.index_select(0, picks) * meanNorm / norms);
    }

    /// <summary>The rate of step <paramref name="step"/>: linear warm-up from 0, constant, linear decay to 0 at the end.</summary>
    public static double LearningRate(TranscoderTrainingOptions o, long step)
    {
        double warm = o.WarmupFraction * o.Steps, decay = o.DecayFraction * o.Steps;
        double rate = o.LearningRate;
        if (step < warm) rate *= (step + 1) / warm;
        long decayStart = (long)Math.Round(o.Steps - decay);
        if (decay > 0 && step >= decayStart) rate *= Math.Max(0, (o.Steps - step) / decay);
        return rate;
    }

    /// <summary>The sparsity coefficient at step <paramref name="step"/>: linear from 0 over the warm-up fraction.</summary>
    public static double SparsityCoefficient(TranscoderTrainingOptions o, long step)
    {
        double full = o.Activation switch { TranscoderActivation.Relu => o.L1, TranscoderActivation.JumpRelu => o.L0, _ => 0 };
        double warm = o.L1WarmupFraction * o.Steps;
        return warm > 0 && step < warm ? full * (step + 1) / warm : full;
    }

    /// <summary>Trains to the last step (or until cancelled) and returns the transcoder in the model's units.</summary>
    public TranscoderTrainingResult Run(IProgress<TranscoderProgress>? progress = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var log = new List<TranscoderLogEntry>();
        long logEvery = Math.Max(1, _options.Steps / _options.LogPoints);
        double fvuSum = 0, l0Sum = 0;
        int sinceLog = 0;
        progress?.Report(new TranscoderProgress(Step, _options.Steps, double.NaN, double.NaN, 0, 0, 0,
            $"{_training.Cfg.architecture}: {_options.Width} features, {_options.Steps:N0} steps of {_options.BatchSize:N0} positions"));
        while (Step < _options.Steps && !cancellation.IsCancellationRequested)
        {
            var (fvu, l0, deadFraction) = TrainStep();
            fvuSum += fvu;
            l0Sum += l0;
            sinceLog++;
            double lr = LearningRate(_options, Step - 1);
            if (Step % logEvery == 0 || Step == _options.Steps)
            {
                log.Add(new TranscoderLogEntry(Step, Step * _options.BatchSize, fvuSum / sinceLog, l0Sum / sinceLog, deadFraction, lr,
                    SparsityCoefficient(_options, Step - 1), clock.Elapsed.TotalSeconds));
                fvuSum = l0Sum = 0;
                sinceLog = 0;
            }
            progress?.Report(new TranscoderProgress(Step, _options.Steps, fvu, l0, deadFraction,
                Step * _options.BatchSize / clock.Elapsed.TotalSeconds, lr));
        }
        double seconds = clock.Elapsed.TotalSeconds;
        return new TranscoderTrainingResult(Export(), log, Step == _options.Steps, Step, Step * _options.BatchSize, seconds,
            _inputScale, _outputScale, _resampled);
    }

    /// <summary>One optimizer step; returns its normalised MSE, L0 and the dead fraction after it.</summary>
    internal (double fvu, double l0, double deadFraction) TrainStep()
    {
        using var scope = NewDisposeScope();
        var (rawX, rawY) = _buffer.Next(_options.BatchSize);
        var x = (rawX - _inputMean).mul_(_inScale);
        var y = rawY * _outScale;
        int n = _options.BatchSize;
        Tensor? dead = null;
        int auxK = 0;
        if (_options.Activation == TranscoderActivation.TopK && _options.AuxKCoefficient > 0 && _options.AuxK > 0)
        {
            using var window = _options.DeadWindow.ToScalar();
            dead = _sinceFired.ge(window).nonzero().reshape(-1);
            auxK = (int)Math.Min(_options.AuxK, dead.shape[0]);
        }
        var terms = new LossTerms(n, _variance, L1: _options.Activation == TranscoderActivation.Relu ? SparsityCoefficient(_options, Step) : 0,
            L0: _options.Activation == TranscoderActivation.JumpRelu ? SparsityCoefficient(_options, Step) : 0,
            Bandwidth: _options.JumpReluBandwidth, AuxCoefficient: auxK > 0 ? _options.AuxKCoefficient : 0, AuxK: auxK, Dead: dead);

        int shards = (n + _options.ChunkSize - 1) / _options.ChunkSize;
        var chunks = _workers.Map(shards, i =>
        {
            long start = (long)i * _options.ChunkSize, end = Math.Min(n, start + _options.ChunkSize);
            return TranscoderLoss.Compute(_training, _logThreshold, x.narrow(0, start, end - start), y.narrow(0, start, end - start), terms);
        });
        double sse = 0, active = 0;
        var fired = chunks[0].Fired;
        var gradients = chunks[0].Gradients;
        for (int c = 0; c < chunks.Length; c++)
        {
            sse += chunks[c].SquaredError;
            active += chunks[c].Active;
            if (c == 0) continue;
            for (int p = 0; p < gradients.Length; p++) gradients[p].PlusInPlace(chunks[c].Gradients[p]);
            fired = fired.logical_or(chunks[c].Fired);
        }
        using (var flat = FlatAdamW.Flatten(gradients)) _adam.Step(LearningRate(_options, Step), flat);
        using (var positions = ((long)n).ToScalar())
        using (var zero = 0L.ToScalar())
        {
            _sinceFired.add_(positions, HeldScalars.One).masked_fill_(fired, zero);
        }
        foreach (var chunk in chunks) chunk.Dispose();   // after the last use of fired, which is chunk 0's with one chunk
        Step++;
        if (_options.ResampleEvery > 0 && Step % _options.ResampleEvery == 0 && Step <= _options.Steps / 2)
            Resample(x, y);
        using var windowNow = _options.DeadWindow.ToScalar();
        double deadFraction = _sinceFired.ge(windowNow).to(ScalarType.Float32).mean().item<float>();
        return (sse / (n * _variance), active / n, deadFraction);
    }

    /// <summary>
    /// Anthropic's resampling of dead features: for each, a position of the batch drawn with probability ∝ its squared
    /// error (distinct positions while there are enough); the decoder row becomes that position's error direction (at the
    /// live rows' mean norm), the encoder column its input direction at 0.2 × the live columns' mean norm, the encoder bias
    /// 0, and their Adam moments are reset. A TopK feature instead starts just above the position's k-th pre-activation
    /// (so it is selected there) and rebuilds what the position misses. Live features are untouched.
    /// </summary>
    internal int Resample(Tensor x, Tensor y)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var window = _options.DeadWindow.ToScalar();
        var deadMask = _sinceFired.ge(window);
        var dead = deadMask.nonzero().reshape(-1);
        long count = dead.shape[0];
        if (count == 0 || count == _options.Width) return 0;
        var residual = y - _training.Decode(Encode(x), x);                         // [n, d_out]
        var weights = residual.Squared().sum(1);
        bool distinct = count <= weights.Positive().sum().item<long>();
        var picks = multinomial(weights, count, replacement: !distinct, generator: _shuffle);
        var inputs = x.index_select(0, picks);                                     // [count, d_in]
        if (_options.Activation == TranscoderActivation.TopK)
        {
            // A TopK feature only learns once it is selected: start it where it wins its position, 5 % above the k-th
            // largest pre-activation there, and make it rebuild what the position is missing (with k = 1, what the
            // feature it displaces wrote: the whole output above b_dec and the skip path).
            var pre = _training.PreActivations(inputs);
            var kth = pre.topk(_options.K, dim: -1).values.min(1).values.AtLeast(1e-3).Times(1.05);        // [count]
            var target = _options.K == 1
                ? y.index_select(0, picks) - _training.b_dec - (_training.W_skip is null ? zeros_like(_training.b_dec) : inputs.matmul(_training.W_skip.t()))
                : residual.index_select(0, picks);
            _training.W_enc.index_copy_(1, dead, (inputs * (kth / inputs.Squared().sum(1).AtLeast(1e-12)).unsqueeze(1)).t());
            _training.W_dec.index_copy_(0, dead, target / kth.unsqueeze(1));
        }
        else
        {
            var live = deadMask.logical_not();
            var decNorm = _training.W_dec.norm(1).masked_select(live).mean();
            var encNorm = _training.W_enc.norm(0).masked_select(live).mean();
            var dirOut = residual.index_select(0, picks);
            dirOut = dirOut / dirOut.norm(1, keepdim: true).AtLeast(1e-12) * decNorm;
            using var fifth = 0.2.ToScalar();
            var dirIn = inputs / inputs.norm(1, keepdim: true).AtLeast(1e-12) * encNorm * fifth;
            _training.W_dec.index_copy_(0, dead, dirOut);
            _training.W_enc.index_copy_(1, dead, dirIn.t());
        }
        using (var zero = 0.0f.ToScalar()) _training.b_enc.index_fill_(0, dead, zero);

        // Their Adam moments start again from zero: W_enc columns, b_enc entries, W_dec rows (and log θ entries).
        var moments = Enumerable.Range(0, _parameters.Length).Select(_adam.Moments).ToArray();
        try
        {
            foreach (var m in moments)
                foreach (var state in new[] { m.ExpAvg, m.ExpAvgSq })
                {
                    using var zero = 0.0f.ToScalar();
                    if (state.shape.SequenceEqual(_training.W_enc.shape)) state.index_fill_(1, dead, zero);
                    else if (state.dim() == 1 && state.shape[0] == _options.Width) state.index_fill_(0, dead, zero);
                    else if (state.shape.SequenceEqual(_training.W_dec.shape)) state.index_fill_(0, dead, zero);
                }
            _adam.SetMoments(moments);
        }
        finally
        {
            foreach (var m in moments)
            {
                m.ExpAvg.Dispose();
                m.ExpAvgSq.Dispose();
            }
        }
        using (var zero = 0L.ToScalar()) _sinceFired.index_fill_(0, dead, zero);
        _resampled += (int)count;
        return (int)count;
    }

    /// <summary>Tests: counts the given features as dead (not fired for <paramref name="positions"/> positions).</summary>
    internal void MarkDeadForTest(int[] features, long positions)
    {
        using var index = tensor(features.Select(f => (long)f).ToArray());
        using var value = positions.ToScalar();
        _sinceFired.index_fill_(0, index, value);
    }

    /// <summary>Tests: per feature, its encoder column, decoder row, encoder bias and every Adam moment tied to them.</summary>
    internal FeatureSnapshot SnapshotForTest()
    {
        using var _ = no_grad();
        float[][] Rows(Tensor t) => Enumerable.Range(0, (int)t.shape[0]).Select(i => t[i].data<float>().ToArray()).ToArray();
        var moments = Enumerable.Range(0, _parameters.Length).Select(_adam.Moments).ToArray();
        try
        {
            // W_enc [d_in, d_sae] (columns), b_enc [d_sae], W_dec [d_sae, d_out] (rows): both moments of each.
            float[] Of(Tensor state, int parameter, int f) =>
                (parameter == 0 ? state[.., f] : parameter == 1 ? state[f].reshape(1) : state[f]).data<float>().ToArray();
            var perFeature = Enumerable.Range(0, _options.Width).Select(f => Enumerable.Range(0, 3)
                .SelectMany(p => Of(moments[p].ExpAvg, p, f).Concat(Of(moments[p].ExpAvgSq, p, f))).ToArray()).ToArray();
            return new FeatureSnapshot(Rows(_training.W_enc.t()), Rows(_training.W_dec), _training.b_enc.data<float>().ToArray(), perFeature);
        }
        finally
        {
            foreach (var m in moments)
            {
                m.ExpAvg.Dispose();
                m.ExpAvgSq.Dispose();
            }
        }
    }

    internal sealed record FeatureSnapshot(float[][] Encoder, float[][] Decoder, float[] Bias, float[][] Moments)
    {
        public float[] MomentsOf(int feature) => Moments[feature];
    }

    Tensor Encode(Tensor x)
    {
        if (_logThreshold is null) return _training.Encode(x);
        var pre = _training.PreActivations(x);
        return pre * pre.gt(_logThreshold.exp()).logical_and_(pre.Positive()).to(ScalarType.Float32);
    }

    /// <summary>A copy of the current transcoder in the model's units. Training saw <c>x' = s_in (x − μ)</c> and
    /// <c>y' = s_out y</c>, so <c>W_enc = s_in W'_enc</c>, <c>b_enc = b'_enc − s_in μ W'_enc</c>, <c>W_dec = W'_dec / s_out</c>,
    /// <c>W_skip = W'_skip s_in / s_out</c>, <c>b_dec = (b'_dec − s_in μ W'_skip^T) / s_out</c>; <c>θ = exp(log θ)</c>.</summary>
    public Transcoder Export()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var t = new Transcoder(_training.Cfg);
        using var sIn = _inputScale.ToScalar();
        using var invOut = (1 / _outputScale).ToScalar();
        using var skipScale = (_inputScale / _outputScale).ToScalar();
        var shift = _inputMean * sIn;                                              // s_in μ [d_in]
        t.W_enc.copy_(_training.W_enc * sIn);
        t.b_enc.copy_(_training.b_enc - shift.matmul(_training.W_enc));
        t.W_dec.copy_(_training.W_dec * invOut);
        var bDec = _training.W_skip is null ? _training.b_dec : _training.b_dec - shift.matmul(_training.W_skip.t());
        t.b_dec.copy_(bDec * invOut);
        t.W_skip?.copy_(_training.W_skip! * skipScale);
        t.threshold?.copy_(_logThreshold!.exp());
        return t;
    }

    public void Dispose()
    {
        _workers?.Dispose();
        _adam?.Dispose();
        _training?.Dispose();
        _logThreshold?.Dispose();
        _buffer?.Dispose();
        _sinceFired?.Dispose();
        _inputMean?.Dispose();
        _inScale?.Dispose();
        _outScale?.Dispose();
        _data.Dispose();
        _shuffle.Dispose();
        _init.Dispose();
    }
}
