namespace TrigramLens.Cli;

/// <summary>
/// Turns the first Ctrl-C into a cancellation request (long work stops at a safe point and saves); a second Ctrl-C
/// ends the process as usual.
/// </summary>
sealed class StopOnCtrlC : IDisposable
{
    readonly CancellationTokenSource _stop = new();

    public StopOnCtrlC() => Console.CancelKeyPress += OnCancel;

    public CancellationToken Token => _stop.Token;

    void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_stop.IsCancellationRequested) return;
        e.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _stop.Dispose();
    }
}
