namespace TrigramLens.Training;

/// <summary>What the trainer reports after every optimizer step.</summary>
/// <param name="Position">the position after the step</param>
/// <param name="StepsPerEpoch">steps in one epoch</param>
/// <param name="Loss">this batch's mean next-token loss</param>
/// <param name="LearningRate">the rate the step used</param>
/// <param name="TargetsPerSecond">predicted tokens per second over the steps of this call so far</param>
public sealed record StepReport(TrainingPosition Position, int StepsPerEpoch, double Loss, double LearningRate, double TargetsPerSecond);
