using static TorchSharp.torch;

namespace TrigramLens.Training;

/// <summary>One parameter's AdamW state.</summary>
public sealed record AdamMoments(long Step, Tensor ExpAvg, Tensor ExpAvgSq) : IDisposable
{
    public void Dispose()
    {
        ExpAvg.Dispose();
        ExpAvgSq.Dispose();
    }
}
