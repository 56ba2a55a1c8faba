using System.Text;
using System.Text.Json;
using TrigramLens.IO;

namespace TrigramLens.Training;

/// <summary>
/// One JSON object per line and per epoch (snake_case keys), rewritten atomically on every append so a crash leaves
/// the previous complete log. On resume, <see cref="Open"/> keeps only the epochs before the resume point, so the
/// log of a resumed run equals that of an uninterrupted one.
/// </summary>
public sealed class MetricsLog<T> where T : notnull
{
    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    readonly List<T> _entries;

    MetricsLog(string path, List<T> entries)
    {
        Path = path;
        _entries = entries;
    }

    public string Path { get; }
    public IReadOnlyList<T> Entries => _entries;

    /// <summary>A new, empty log at <paramref name="path"/> (the file is written on the first append).</summary>
    public static MetricsLog<T> Create(string path) => new(path, []);

    /// <summary>The existing log, keeping its first <paramref name="keep"/> entries (empty if there is no file).</summary>
    public static MetricsLog<T> Open(string path, int keep)
    {
        if (!File.Exists(path)) return new(path, []);
        var entries = File.ReadLines(path).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<T>(l, Json) ?? throw new InvalidDataException($"'{path}' has an empty line"))
            .Take(keep).ToList();
        return new(path, entries);
    }

    public void Append(T entry)
    {
        _entries.Add(entry);
        var text = new StringBuilder();
        foreach (var e in _entries) text.Append(JsonSerializer.Serialize(e, Json)).Append('\n');
        AtomicFile.WriteAllText(Path, text.ToString());
    }
}
