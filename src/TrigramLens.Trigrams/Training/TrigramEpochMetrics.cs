namespace TrigramLens.Trigrams.Training;

/// <summary>
/// What is logged at the end of every epoch (one line of the metrics log): ARENA's numbers — loss, loss as a fraction
/// between uniform and optimal, trigram accuracy and mean correct probability — plus the training loss, the rate and time.
/// </summary>
/// <param name="Epoch">0-based</param>
/// <param name="TrainLoss">mean next-token loss over the epoch's training batches</param>
/// <param name="ValidationLoss">mean next-token loss over the validation rows after the epoch</param>
/// <param name="LossAsFraction">of the validation loss (1 = uniform guessing, 0 = optimal)</param>
/// <param name="ElapsedSeconds">wall time of the run up to this epoch's end (summed over resumed sessions)</param>
public sealed record TrigramEpochMetrics(
    int Epoch,
    double TrainLoss,
    double ValidationLoss,
    double LossAsFraction,
    int TrigramCorrect,
    int TrigramTotal,
    double MeanCorrectProbability,
    double LearningRate,
    double ElapsedSeconds,
    double TargetsPerSecond)
{
    public double TrigramAccuracy => TrigramTotal == 0 ? 0 : (double)TrigramCorrect / TrigramTotal;
}
