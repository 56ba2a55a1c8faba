using TrigramLens.Transcoders;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>The default transcoder of a trigram model's MLP: the options the search in docs/transcoders.md chose.</summary>
public static class TranscoderRecipe
{
    public static TranscoderTrainingOptions Default { get; } = new()
    {
        Width = 1024,
        Activation = TranscoderActivation.TopK,
        K = 1,
        Steps = 1000,
        BatchSize = 4096,
        LearningRate = 1e-2,
    };
}
