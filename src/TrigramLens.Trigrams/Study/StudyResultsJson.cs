using System.Text.Json;
using System.Text.Json.Serialization;
using TrigramLens.IO;

namespace TrigramLens.Trigrams.Study;

/// <summary>Writes and reads <c>results.json</c>: snake_case keys, documented in docs/results.md.</summary>
public static class StudyResultsJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize(StudyResults results) => JsonSerializer.Serialize(results, Options);

    public static void Write(string path, StudyResults results) => AtomicFile.WriteAllText(path, Serialize(results));
}
