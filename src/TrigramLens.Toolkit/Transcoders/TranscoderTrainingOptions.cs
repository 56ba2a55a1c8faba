namespace TrigramLens.Transcoders;

/// <summary>
/// How <see cref="TranscoderTrainer"/> trains a transcoder: its shape, the data stream, Adam with warm-up and decay, the
/// sparsity penalty and what is done about dead features. Same options, model and batch source give the same bits.
/// </summary>
public sealed record TranscoderTrainingOptions
{
    /// <summary>Features (<c>d_sae</c>).</summary>
    public int Width { get; init; } = 512;
    public TranscoderActivation Activation { get; init; } = TranscoderActivation.TopK;
    /// <summary>Active features per position (TopK).</summary>
    public int K { get; init; } = 4;
    /// <summary>λ of <c>λ Σ f_i ‖W_dec,i‖</c> (ReLU), reached linearly over <see cref="L1WarmupFraction"/> of the steps.</summary>
    public double L1 { get; init; } = 5.0;
    public double L1WarmupFraction { get; init; } = 0.05;
    /// <summary>Coefficient of the JumpReLU L0 penalty (warmed up like <see cref="L1"/>).</summary>
    public double L0 { get; init; } = 1e-3;
    public double JumpReluInitialThreshold { get; init; } = 0.01;
    public double JumpReluBandwidth { get; init; } = 0.05;
    /// <summary>Add a linear skip path <c>x W_skip^T</c> (starts at zero).</summary>
    public bool Skip { get; init; }

    public int Steps { get; init; } = 2000;
    /// <summary>Positions per optimizer step.</summary>
    public int BatchSize { get; init; } = 4096;
    /// <summary>Positions the shuffling buffer holds; half of it is replaced by fresh activations each time it has been served.</summary>
    public int BufferPositions { get; init; } = 65536;

    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Linear warm-up from 0 over this fraction of the steps.</summary>
    public double WarmupFraction { get; init; } = 0.05;
    /// <summary>Linear decay to 0 over this last fraction of the steps.</summary>
    public double DecayFraction { get; init; } = 0.2;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double AdamEps { get; init; } = 1e-8;

    /// <summary>AuxK (TopK): weight of the dead latents' reconstruction of the residual; 0 turns it off.</summary>
    public double AuxKCoefficient { get; init; } = 1.0 / 32;
    /// <summary>AuxK: how many dead latents rebuild the residual.</summary>
    public int AuxK { get; init; } = 16;
    /// <summary>A feature is dead when it has not fired on the last this many training positions.</summary>
    public long DeadWindow { get; init; } = 200_000;
    /// <summary>Resample dead features every this many steps, in the first half of training; 0: never.</summary>
    public int ResampleEvery { get; init; }

    /// <summary>Scale inputs and targets to a mean norm of √d while training (folded into the saved weights).</summary>
    public bool NormaliseActivations { get; init; } = true;
    /// <summary>Initial norm of every decoder row (random directions); the encoder starts at the decoder's transpose when
    /// <c>d_in = d_out</c>, otherwise at random directions of the same norm.</summary>
    public double DecoderInitNorm { get; init; } = 0.1;
    /// <summary>
    /// Start every feature at a training position instead (k-means++-like): positions drawn without replacement with
    /// probability ∝ <c>‖y − b_dec‖²</c>; every encoder column is the direction of its position's input over the mean input
    /// norm, and the decoder row rebuilds that position's <c>y − b_dec</c> exactly.
    /// </summary>
    public bool DataInit { get; init; }

    public int Seed { get; init; }
    /// <summary>Positions per chunk: each batch is cut into chunks this long, each computed on one single-threaded
    /// worker, their gradients summed in chunk order. The weights depend on this number, not on how many threads run
    /// the chunks.</summary>
    public int ChunkSize { get; init; } = 256;
    /// <summary>Training log entries (<see cref="TranscoderLogEntry"/>) over the run.</summary>
    public int LogPoints { get; init; } = 50;

    public void Validate()
    {
        Check(Width >= 1, $"width must be positive (got {Width})");
        Check(Enum.IsDefined(Activation), $"activation {(int)Activation} is not relu, topk or jumprelu");
        if (Activation == TranscoderActivation.TopK) Check(K >= 1 && K <= Width, $"k must lie in [1, width = {Width}] (got {K})");
        Check(L1 >= 0 && L0 >= 0, "sparsity coefficients must not be negative");
        Check(JumpReluInitialThreshold > 0 && JumpReluBandwidth > 0, "JumpReLU threshold and bandwidth must be positive");
        Check(Steps >= 1, $"steps must be positive (got {Steps})");
        Check(BatchSize >= 1, $"batch size must be positive (got {BatchSize})");
        Check(BufferPositions >= 2 * BatchSize, $"the buffer ({BufferPositions} positions) must hold at least two batches of {BatchSize}");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"learning rate must be positive (got {LearningRate})");
        Check(WarmupFraction is >= 0 and <= 1 && DecayFraction is >= 0 and <= 1 && WarmupFraction + DecayFraction <= 1,
            "warm-up and decay fractions must lie in [0, 1] and add up to at most 1");
        Check(L1WarmupFraction is >= 0 and <= 1, "the L1 warm-up fraction must lie in [0, 1]");
        Check(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, "Adam's betas must lie in [0, 1)");
        Check(AuxKCoefficient >= 0 && AuxK >= 0, "AuxK settings must not be negative");
        Check(DeadWindow >= 1, "the dead window must be positive");
        Check(ResampleEvery >= 0, "resample interval must not be negative");
        Check(DecoderInitNorm > 0, "decoder init norm must be positive");
        Check(ChunkSize >= 1, $"chunk size must be positive (got {ChunkSize})");
        Check(LogPoints >= 1, "log points must be positive");
    }

    static void Check(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
