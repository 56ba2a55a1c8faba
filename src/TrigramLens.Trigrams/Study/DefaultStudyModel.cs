using System.Globalization;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Training;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Trigrams.Study;

/// <summary>The model a study without a checkpoint runs on, and where it came from.</summary>
/// <param name="Reused">true when a finished model in the study folder was loaded instead of trained</param>
public sealed record StudyModel(HookedTransformer Model, string Source, TrainingSummary Training, bool Reused);

/// <summary>
/// The study's default model: the <c>fast</c> recipe trained into the study folder (<c>model-seed{seed}.safetensors</c>,
/// or <c>model-seed{seed}-epochs{n}.safetensors</c> for another epoch count). A finished model there is loaded as it is,
/// without generating any data; an interrupted training resumes; one left by another definition of the recipe is
/// trained again. So running the study again never repeats work.
/// </summary>
public static class DefaultStudyModel
{
    /// <summary>The recipe the study trains with unless told otherwise.</summary>
    public static TrigramRecipe Recipe => TrigramRecipe.Fast;

    public static string PathFor(string outputDirectory, int seed, int? epochs) =>
        Path.Combine(Path.GetFullPath(outputDirectory), epochs is int n ? $"model-seed{seed}-epochs{n}.safetensors" : $"model-seed{seed}.safetensors");

    public static TrigramTrainingOptions TrainingOptions(string outputDirectory, int seed, int? epochs, TrigramRecipe? recipe = null) => new()
    {
        Recipe = recipe ?? Recipe, Seed = seed, Epochs = epochs, OutputPath = PathFor(outputDirectory, seed, epochs), Resume = true,
        RestartDifferentRun = true,   // e.g. left by a version whose fast recipe differed
    };

    /// <summary>
    /// The finished default model in <paramref name="outputDirectory"/>, or trained by <paramref name="train"/> (which
    /// shows progress as the caller likes; plain <see cref="TrigramTraining.Train"/> by default). Throws
    /// <see cref="OperationCanceledException"/> when training stopped before the end (it resumes next time).
    /// </summary>
    public static StudyModel LoadOrTrain(string outputDirectory, int seed, int? epochs, Func<TrigramTrainingOptions, TrainingResult>? train = null,
        TrigramRecipe? recipe = null)
    {
        var options = TrainingOptions(outputDirectory, seed, epochs, recipe);
        if (TryReuse(options) is { } reused) return reused;
        var result = (train ?? (o => TrigramTraining.Train(o)))(options);
        if (!result.Completed)
        {
            result.Model.Dispose();
            throw new OperationCanceledException("training stopped; run the study again to continue it");
        }
        var final = result.Final!;
        return new StudyModel(result.Model, Source(options), Summary(options, final), Reused: false);
    }

    /// <summary>The model at the options' path if it finished training with exactly this recipe and seed, else null.</summary>
    public static StudyModel? TryReuse(TrigramTrainingOptions options)
    {
        var recipe = options.EffectiveRecipe;
        var outputs = TrainingOutputs.For(options.OutputPath!);
        if (!File.Exists(outputs.Model)) return null;
        var meta = ModelCheckpoint.ReadMetadata(outputs.Model);
        bool finished = meta.GetValueOrDefault(TrigramTraining.RecipeKey) == recipe.ToJson()
                        && meta.GetValueOrDefault(TrigramTraining.SeedKey) == options.Seed.ToString(CultureInfo.InvariantCulture)
                        && meta.GetValueOrDefault(TrigramTraining.EpochKey) == recipe.Epochs.ToString(CultureInfo.InvariantCulture);
        if (!finished) return null;
        var log = MetricsLog<TrigramEpochMetrics>.Open(outputs.Metrics, keep: recipe.Epochs);
        if (log.Entries.Count != recipe.Epochs) return null;   // the log does not describe this model: train over
        return new StudyModel(ModelCheckpoint.Load(outputs.Model), Source(options), Summary(options, log.Entries[^1]), Reused: true);
    }

    static string Source(TrigramTrainingOptions o) => $"trained ({o.EffectiveRecipe.Name} recipe, seed {o.Seed}): {TrainingOutputs.For(o.OutputPath!).Model}";

    static TrainingSummary Summary(TrigramTrainingOptions o, TrigramEpochMetrics final)
    {
        var outputs = TrainingOutputs.For(o.OutputPath!);
        return new TrainingSummary(o.EffectiveRecipe.Name, o.Seed, o.EffectiveRecipe.Epochs, final.ElapsedSeconds, final.TrigramCorrect,
            final.TrigramTotal, final.ValidationLoss, File.Exists(outputs.Curves) ? Path.GetFileName(outputs.Curves) : null);
    }
}
