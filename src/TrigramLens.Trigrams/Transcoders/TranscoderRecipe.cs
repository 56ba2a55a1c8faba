using TrigramLens.Transcoders;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>The default transcoder of a trigram model's MLP: the options the search in docs/transcoders.md chose.</summary>
public static class TranscoderRecipe
{
    public static TranscoderTrainingOptions Default { get; } = new()
    {
        Width = 1024,
        Activation = TranscoderActivation.JumpRelu,
        L0 = 0.01,
        JumpReluInitialThreshold = 0.3,
        JumpReluBandwidth = 0.2,
        Skip = true,
        Steps = 1000,
        BatchSize = 2048,
        LearningRate = 1e-2,
        ResampleEvery = 100,
    };
}
