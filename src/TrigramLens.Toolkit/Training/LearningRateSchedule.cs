using System.Text.Json.Serialization;

namespace TrigramLens.Training;

/// <summary>
/// The learning rate as a function of the training position. Records, so a recipe can be written into a
/// checkpoint as JSON and compared on resume.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(LinearPerEpochSchedule), "linear_per_epoch")]
[JsonDerivedType(typeof(WarmupCosineSchedule), "warmup_cosine")]
public abstract record LearningRateSchedule
{
    /// <param name="epoch">0-based epoch</param>
    /// <param name="globalStep">0-based optimizer step over the whole run</param>
    /// <param name="totalSteps">optimizer steps in the whole run</param>
    public abstract double At(int epoch, long globalStep, long totalSteps);
}
