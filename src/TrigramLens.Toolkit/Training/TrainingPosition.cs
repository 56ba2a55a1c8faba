namespace TrigramLens.Training;

/// <summary>Where a run stands: the current epoch (0-based; equal to the epoch count when finished), the next step
/// within it, and optimizer steps taken so far.</summary>
public readonly record struct TrainingPosition(int Epoch, int StepInEpoch, long GlobalStep);
