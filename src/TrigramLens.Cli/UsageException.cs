namespace TrigramLens.Cli;

/// <summary>The arguments do not fit what they name (e.g. a prefix outside the model's vocabulary): exit code 2.</summary>
sealed class UsageException(string message) : Exception(message);
