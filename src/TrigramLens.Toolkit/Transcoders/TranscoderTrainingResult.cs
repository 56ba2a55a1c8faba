namespace TrigramLens.Transcoders;

/// <summary>A trained transcoder (weights in the model's own units, the normalisation folded in) and how training went.</summary>
/// <param name="Completed">false when cancelled before the last step (the transcoder is then the one at that step)</param>
/// <param name="InputScale">the factor inputs were multiplied by while training (1 without normalisation)</param>
/// <param name="Resampled">dead features re-initialised by resampling, over the run</param>
public sealed record TranscoderTrainingResult(Transcoder Transcoder, IReadOnlyList<TranscoderLogEntry> Log, bool Completed, long Steps,
    long PositionsTrained, double WallSeconds, double InputScale, double OutputScale, int Resampled)
{
    public double PositionsPerSecond => PositionsTrained / WallSeconds;
}
