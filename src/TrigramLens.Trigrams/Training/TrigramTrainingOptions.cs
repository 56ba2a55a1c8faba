using TrigramLens.Trigrams.Data;

namespace TrigramLens.Trigrams.Training;

/// <summary>What <see cref="TrigramTraining.Train"/> trains and where it writes.</summary>
public sealed record TrigramTrainingOptions
{
    public TrigramRecipe Recipe { get; init; } = TrigramRecipe.Fast;
    /// <summary>Seeds the data, the split, the model's init and the shuffle (ARENA's challenge: 40).</summary>
    public int Seed { get; init; } = 40;
    /// <summary>Overrides the recipe's epoch count (a per-epoch schedule is stretched to it).</summary>
    public int? Epochs { get; init; }
    /// <summary>The model file (safetensors); beside it the resumable checkpoint, the metrics log and the curves
    /// (<see cref="TrainingOutputs"/>). Null: train in memory only.</summary>
    public string? OutputPath { get; init; }
    /// <summary>Continue from the resumable checkpoint beside <see cref="OutputPath"/> if there is one.</summary>
    public bool Resume { get; init; }
    /// <summary>With <see cref="Resume"/>: a resumable checkpoint written by a different run (another recipe, an
    /// earlier definition of this one, another seed or epoch count) is trained over from scratch instead of refused.
    /// For files that cache a default model, such as the study's.</summary>
    public bool RestartDifferentRun { get; init; }
    /// <summary>Training threads (<see cref="TrainingThreads"/>); null: one per core. They run the recipe's shards, so
    /// the weights do not depend on them.</summary>
    public int? Threads { get; init; }
    /// <summary>Flush denormal floats to zero while training (faster late in training; see docs/training.md).</summary>
    public bool FlushDenormals { get; init; } = true;

    public TrigramRecipe EffectiveRecipe => Epochs is int n ? Recipe.WithEpochs(n) : Recipe;

    public TrigramDataConfig Data => TrigramDataConfig.For(Seed);
}
