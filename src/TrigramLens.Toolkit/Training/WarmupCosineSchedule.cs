namespace TrigramLens.Training;

/// <summary>
/// Per step: linear warm-up from <c>Peak / WarmupSteps</c> to <c>Peak</c> over the first <see cref="WarmupSteps"/> steps, then
/// a half cosine from <c>Peak</c> down to <c>Peak · FinalFraction</c> at the last step of the run.
/// </summary>
public sealed record WarmupCosineSchedule(double Peak, long WarmupSteps, double FinalFraction) : LearningRateSchedule
{
    public override double At(int epoch, long globalStep, long totalSteps)
    {
        if (globalStep < WarmupSteps) return Peak * (globalStep + 1) / WarmupSteps;
        long decaySteps = Math.Max(1, totalSteps - 1 - WarmupSteps);
        double progress = Math.Clamp((double)(globalStep - WarmupSteps) / decaySteps, 0, 1);
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return Peak * (FinalFraction + (1 - FinalFraction) * cosine);
    }
}
