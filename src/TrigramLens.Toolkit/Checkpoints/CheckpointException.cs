namespace TrigramLens.Checkpoints;

/// <summary>A checkpoint cannot be read, or does not fit the model; the message is one line that names the problem.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string message) : base(message) { }
    public CheckpointException(string message, Exception inner) : base(message, inner) { }
}
