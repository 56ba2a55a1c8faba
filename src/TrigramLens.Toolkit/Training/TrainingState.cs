using static TorchSharp.torch;

namespace TrigramLens.Training;

/// <summary>
/// Everything besides the weights that a run needs to continue exactly where it stopped: the position, the
/// optimizer's moments and step counts (by parameter name), the running sums of the current epoch, and the shuffle
/// generator's state at the start of the current epoch. Owns its tensors.
/// </summary>
public sealed class TrainingState : IDisposable
{
    public required TrainingPosition Position { get; init; }
    /// <summary>Sum of loss × targets over the steps of the current epoch taken so far, and those targets.</summary>
    public required double EpochLossSum { get; init; }
    public required long EpochTargets { get; init; }
    /// <summary>libtorch's CPU generator state (its bytes) before the current epoch's permutation was drawn; empty without shuffling.</summary>
    public required byte[] EpochStartGeneratorState { get; init; }
    /// <summary>AdamW state per parameter name: <c>exp_avg</c>, <c>exp_avg_sq</c> (shaped as the parameter) and the step count.</summary>
    public required IReadOnlyDictionary<string, AdamMoments> Optimizer { get; init; }

    public void Dispose()
    {
        foreach (var moments in Optimizer.Values) moments.Dispose();
    }
}
