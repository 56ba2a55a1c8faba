using TrigramLens.Model;

namespace TrigramLens.Trigrams.Training;

/// <summary>The outcome of <see cref="TrigramTraining.Train"/>. The caller owns (and disposes) <see cref="Model"/>.</summary>
/// <param name="Completed">false when cancelled before the last epoch ended</param>
/// <param name="Final">the last finished epoch's metrics (null if none finished)</param>
/// <param name="History">every finished epoch's metrics, including those of earlier sessions when resumed</param>
/// <param name="WallTime">this session's wall time, preparation included</param>
/// <param name="Outputs">the files written, or null when training in memory</param>
public sealed record TrainingResult(
    HookedTransformer Model,
    TrigramRecipe Recipe,
    int Seed,
    bool Completed,
    TrigramEpochMetrics? Final,
    IReadOnlyList<TrigramEpochMetrics> History,
    TimeSpan WallTime,
    TrainingOutputs? Outputs);
