namespace TrigramLens.Cli;

/// <summary>The tool's exit codes, as the README's table lists them.</summary>
static class ExitCodes
{
    public const int Success = 0;
    /// <summary>An input could not be read or does not fit (a checkpoint, a dataset), or an output could not be written.</summary>
    public const int Input = 1;
    /// <summary>Bad arguments: checked before any work, one line on stderr.</summary>
    public const int Usage = 2;
    /// <summary>A bug or a libtorch failure: one line, the trace with TRIGRAMLENS_DEBUG=1.</summary>
    public const int Internal = 3;
    /// <summary>Stopped by Ctrl-C (training saves first; resume with --resume or by running the study again).</summary>
    public const int Interrupted = 130;   // the shell's convention for "ended by Ctrl-C"
}
