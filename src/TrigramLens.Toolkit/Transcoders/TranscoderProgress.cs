namespace TrigramLens.Transcoders;

/// <summary>A training report, sent after every step (renderers throttle) and with messages.</summary>
/// <param name="Step">steps done</param>
/// <param name="Fvu">this step's squared error as a fraction of the target's variance (the normalised MSE)</param>
/// <param name="L0">this step's mean active features per position</param>
/// <param name="DeadFraction">features that have not fired on the last <see cref="TranscoderTrainingOptions.DeadWindow"/> positions</param>
/// <param name="PositionsPerSecond">training positions per second so far</param>
public sealed record TranscoderProgress(long Step, long Steps, double Fvu, double L0, double DeadFraction, double PositionsPerSecond,
    double LearningRate, string? Message = null);

/// <summary>One point of the training curves: means over the steps since the previous point.</summary>
public sealed record TranscoderLogEntry(long Step, long Positions, double Fvu, double L0, double DeadFraction, double LearningRate,
    double SparsityCoefficient, double Seconds);
