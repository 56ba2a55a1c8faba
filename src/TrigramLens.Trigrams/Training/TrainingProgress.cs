namespace TrigramLens.Trigrams.Training;

/// <summary>What a training run is doing when it reports.</summary>
public enum TrainingPhase
{
    /// <summary>Generating data, building or loading the model.</summary>
    Preparing,
    /// <summary>After an optimizer step.</summary>
    Step,
    /// <summary>After an epoch's metrics were computed and its checkpoint written.</summary>
    EpochEnd,
    /// <summary>All epochs done.</summary>
    Finished,
    /// <summary>Stopped on request; the state at the last step was saved (when there is an output path).</summary>
    Cancelled,
}

/// <summary>
/// One progress report of <see cref="TrigramTraining.Train"/>, sent from the training thread. Steps are reported every
/// step; renderers should throttle.
/// </summary>
/// <param name="Epoch">0-based epoch in progress (after the last epoch: the epoch count)</param>
/// <param name="Step">steps done in the current epoch</param>
/// <param name="Loss">latest batch loss (NaN before the first step)</param>
/// <param name="LossAsFraction">of <paramref name="Loss"/></param>
/// <param name="TargetsPerSecond">predicted tokens per second, over this epoch's steps in this session</param>
/// <param name="EpochMetrics">set at <see cref="TrainingPhase.EpochEnd"/></param>
/// <param name="Message">a line for people, e.g. what is being prepared, or where a checkpoint was written</param>
public sealed record TrainingProgress(
    TrainingPhase Phase,
    string Recipe,
    int Epoch,
    int Epochs,
    int Step,
    int StepsPerEpoch,
    long GlobalStep,
    long TotalSteps,
    double Loss,
    double LossAsFraction,
    double LearningRate,
    double TargetsPerSecond,
    TrigramEpochMetrics? EpochMetrics = null,
    string? Message = null);
