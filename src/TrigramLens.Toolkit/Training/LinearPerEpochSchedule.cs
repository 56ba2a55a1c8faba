namespace TrigramLens.Training;

/// <summary>
/// One rate per epoch, stepping linearly: at the start of epoch <c>e</c> (0-based) the rate is
/// <c>start + (end − start)(e + 1) / epochs</c>. ARENA's trigram recipe is <c>start = 1e-3, end = 1e-4, epochs = 100</c>
/// (so its first epoch already runs at 0.991e-3 and its last at exactly <c>end</c>).
/// </summary>
public sealed record LinearPerEpochSchedule(double Start, double End, int Epochs) : LearningRateSchedule
{
    public override double At(int epoch, long globalStep, long totalSteps) => Start + (End - Start) * (epoch + 1) / Epochs;
}
