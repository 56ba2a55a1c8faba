using TrigramLens.Checkpoints;

namespace TrigramLens.Testing;

/// <summary>How a batch of damaged files fared: each must load or end in a one-line <see cref="CheckpointException"/>.</summary>
/// <param name="Inputs">mutated files tried</param>
/// <param name="Reads">reads made (each file by each reader)</param>
public sealed record FuzzReport(int Inputs, int Reads, int Loaded, int Refused, IReadOnlyList<string> Failures)
{
    public override string ToString() =>
        $"{Inputs} mutated files, {Reads} reads: {Loaded} loaded, {Refused} refused with a one-line CheckpointException, {Failures.Count} failed otherwise";
}

/// <summary>Feeds damaged files to readers, one at a time, and sorts the outcomes.</summary>
public static class LoaderFuzz
{
    /// <summary>Longer than any read of these small files may take; a reader still busy is taken to hang.</summary>
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <param name="path">where each input is written before the readers see it</param>
    /// <param name="readers">each reads <paramref name="path"/> and disposes what it got</param>
    public static FuzzReport Run(string path, IEnumerable<(string what, byte[] bytes)> inputs, params (string name, Action<string> read)[] readers)
    {
        int tried = 0, reads = 0, loaded = 0, refused = 0;
        var failures = new List<string>();
        foreach (var (what, bytes) in inputs)
        {
            tried++;
            File.WriteAllBytes(path, bytes);
            foreach (var (name, read) in readers)
            {
                reads++;
                var task = Task.Run(() => read(path));
                bool finished;
                try
                {
                    finished = task.Wait(Patience);
                }
                catch (AggregateException)
                {
                    finished = true;   // the outcome is read from the task below
                }
                if (!finished)
                {
                    failures.Add($"#{tried} ({what}): {name} still running after {Patience.TotalSeconds} s");
                    continue;
                }
                var error = task.Exception?.InnerException;
                if (error is null) loaded++;
                else if (error is CheckpointException c && c.Message.Length > 0 && !c.Message.Contains('\n') && !c.Message.Contains('\r')) refused++;
                else failures.Add($"#{tried} ({what}): {name} threw {error.GetType().Name}: {CheckpointText.Shorten(error.Message, 300)}");
            }
        }
        return new FuzzReport(tried, reads, loaded, refused, failures);
    }
}
