using TrigramLens.Checkpoints;
using TrigramLens.Testing;
using TrigramLens.Training;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Trigrams.Tests.Study;

public sealed class DefaultStudyModelTests() : TempDirectoryTests("trigramlens-default-model-")
{
    static readonly TrigramRecipe Tiny = new()
    {
        Name = "tiny", DatasetSize = 300, TrainSize = 256, Epochs = 2, BatchSize = 128,
        Schedule = new WarmupCosineSchedule(1e-2, 2, 0.1), WeightDecay = 1e-3, Shuffle = true,
    };

    [Fact]
    public void A_finished_model_is_loaded_without_training_and_anything_else_is_trained()
    {
        int trainings = 0;
        TrainingResult Train(TrigramTrainingOptions o)
        {
            trainings++;
            return TrigramTraining.Train(o with { Threads = 1 });
        }

        var first = DefaultStudyModel.LoadOrTrain(Dir, seed: 40, epochs: null, Train, Tiny);
        using (first.Model)
        {
            Assert.False(first.Reused);
            Assert.Equal(1, trainings);
            var second = DefaultStudyModel.LoadOrTrain(Dir, seed: 40, epochs: null, Train, Tiny);
            using (second.Model)
            {
                Assert.True(second.Reused);
                Assert.Equal(1, trainings);                                     // no second training
                Assert.Equal(first.Training, second.Training);                  // the summary read back from the log
                foreach (var (name, t) in first.Model.state_dict()) Assert.True(t.Equals(second.Model.state_dict()[name]), name);
            }

            // Another seed, or another epoch count, is another model: trained, not confused with this one.
            using (DefaultStudyModel.LoadOrTrain(Dir, seed: 41, epochs: null, Train, Tiny).Model) Assert.Equal(2, trainings);
            using (DefaultStudyModel.LoadOrTrain(Dir, seed: 40, epochs: 1, Train, Tiny).Model) Assert.Equal(3, trainings);
        }

        // A model whose log was lost is not described by anything: trained again (it resumes, so this is cheap).
        File.Delete(TrainingOutputs.For(DefaultStudyModel.PathFor(Dir, 40, null)).Metrics);
        Assert.Null(DefaultStudyModel.TryReuse(DefaultStudyModel.TrainingOptions(Dir, 40, null, Tiny)));
    }
}
