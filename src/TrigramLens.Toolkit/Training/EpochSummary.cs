namespace TrigramLens.Training;

/// <summary>A finished epoch: its index, its mean training loss (over every target of the epoch) and its last rate.</summary>
/// <param name="Targets">predicted tokens in the whole epoch</param>
/// <param name="Seconds">wall time of the part of the epoch this session ran (all of it unless resumed mid-epoch)</param>
/// <param name="TargetsPerSecond">over that part</param>
public sealed record EpochSummary(int Epoch, double TrainLoss, double LearningRate, long Targets, double Seconds, double TargetsPerSecond);
