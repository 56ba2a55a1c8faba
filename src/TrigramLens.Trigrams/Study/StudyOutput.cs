using System.Text.Json;

namespace TrigramLens.Trigrams.Study;

/// <summary>
/// The study's output folder, updated all at once: everything is written into a staging folder inside it and only
/// moved into place when the whole study has succeeded. A failed run leaves the previous study as it was; a
/// successful one also removes the previous run's figures that the new one no longer has.
/// </summary>
sealed class StudyOutput
{
    const string ResultsFile = "results.json";

    StudyOutput(string directory, string staging)
    {
        Directory = directory;
        Staging = staging;
    }

    public string Directory { get; }
    public string Staging { get; }

    public static StudyOutput Begin(string directory)
    {
        string full = Path.GetFullPath(directory);
        if (File.Exists(full)) throw new IOException($"'{full}' is a file; the study needs a folder");
        string staging = Path.Combine(full, $".staging-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(staging);
        return new StudyOutput(full, staging);
    }

    /// <summary>Moves every staged file into the folder (each move atomic) and drops the previous run's leftovers.</summary>
    public void Publish(IReadOnlyCollection<string> files)
    {
        var previous = PreviousFiles();
        foreach (string file in files) File.Move(Path.Combine(Staging, file), Path.Combine(Directory, file), overwrite: true);
        foreach (string stale in previous.Except(files)) File.Delete(Path.Combine(Directory, stale));
        System.IO.Directory.Delete(Staging, recursive: true);
    }

    public void Abandon()
    {
        if (System.IO.Directory.Exists(Staging)) System.IO.Directory.Delete(Staging, recursive: true);
    }

    /// <summary>Files the previous study listed in its results.json (only those, so nothing else in the folder is touched).</summary>
    List<string> PreviousFiles()
    {
        string path = Path.Combine(Directory, ResultsFile);
        if (!File.Exists(path)) return [];
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            return json.RootElement.GetProperty("figures").EnumerateArray()
                .Select(f => f.GetProperty("file").GetString())
                .Where(f => f is not null && Path.GetFileName(f) == f)
                .Select(f => f!)
                .ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return [];   // not a results.json we wrote: leave the folder's other files alone
        }
    }
}
