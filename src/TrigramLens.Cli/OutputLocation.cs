namespace TrigramLens.Cli;

/// <summary>
/// Checks, before any work, that an output path can be written: a file path must not be a folder, a folder path must
/// not be a file, and the nearest folder that exists must accept a new file (probed with a temporary file, removed at
/// once). Nothing is created here; the command creates what it needs when it writes.
/// </summary>
static class OutputLocation
{
    /// <returns>why <paramref name="path"/> cannot be written, in a phrase, or null when it can</returns>
    public static string? Problem(string path, bool isFolder)
    {
        string full = Path.GetFullPath(path);
        if (isFolder && File.Exists(full)) return "is a file; give a folder";
        if (!isFolder && Directory.Exists(full)) return "is a folder; give a file name";
        string? existing = isFolder ? full : Path.GetDirectoryName(full);
        while (existing is not null && !Directory.Exists(existing))
        {
            if (File.Exists(existing)) return $"cannot be created: '{existing}' is a file";
            existing = Path.GetDirectoryName(existing);
        }
        if (existing is null) return "has no existing folder above it";
        string probe = Path.Combine(existing, $".trigramlens-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be written: '{existing}' does not accept new files ({e.Message.Split('\n')[0].Trim()})";
        }
    }
}
