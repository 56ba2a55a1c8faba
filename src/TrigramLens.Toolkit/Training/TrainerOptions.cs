namespace TrigramLens.Training;

/// <summary>
/// How <see cref="Trainer"/> trains: epochs over a token tensor in batches, AdamW with a learning-rate schedule.
/// Serialised into resumable checkpoints, so a resume with different options is refused.
/// </summary>
public sealed record TrainerOptions
{
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public required LearningRateSchedule Schedule { get; init; }
    /// <summary>Decoupled weight decay (AdamW): every step multiplies weights by <c>1 − lr · WeightDecay</c>.</summary>
    public double WeightDecay { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    /// <summary>Reorder the rows at the start of every epoch, drawing from a generator seeded with <see cref="ShuffleSeed"/>.
    /// Off: every epoch sees the rows in their stored order (ARENA's <c>shuffle=False</c>).</summary>
    public bool Shuffle { get; init; }
    public ulong ShuffleSeed { get; init; }
    /// <summary>Skip a last batch smaller than <see cref="BatchSize"/> (PyTorch's <c>drop_last</c>).</summary>
    public bool DropLast { get; init; }
    /// <summary>
    /// Cut every batch into this many row shards, each run forward and backward with one libtorch thread, and sum their
    /// gradients in shard order. The weights then depend on this number and not on how many threads run the shards.
    /// 1: one step on the caller's libtorch threads, whose reductions split work by thread count.
    /// </summary>
    public int Shards { get; init; } = 1;

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1 (got {Epochs})");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be at least 1 (got {BatchSize})");
        if (WeightDecay < 0) throw new ArgumentException($"weight decay must not be negative (got {WeightDecay})");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new ArgumentException("betas must lie in [0, 1)");
        if (Shards < 1) throw new ArgumentException($"shards must be at least 1 (got {Shards})");
        if (Eps < 0) throw new ArgumentException($"eps must not be negative (got {Eps})");
    }
}
