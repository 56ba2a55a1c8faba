using System.Text.Json;

namespace TrigramLens.Cli;

/// <summary>The CLI's JSON: snake_case keys, indented, to stdout.</summary>
static class JsonOutput
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static void Write<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
}
