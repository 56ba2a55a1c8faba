using System.Text.Json;
using System.Text.Json.Serialization;
using TrigramLens.IO;
using TrigramLens.Transcoders;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>
/// <c>metrics.json</c> of a <c>trigramlens transcoder</c> run: the model, how the transcoder was trained, and every number
/// of its analysis (keys documented in docs/transcoders.md).
/// </summary>
public sealed record TranscoderRunResults(
    int SchemaVersion,
    string Model,
    TranscoderTrainingSummary? Training,
    TranscoderSummary Transcoder,
    AnalysisSetSummary AnalysisSet,
    ReconstructionSummary Reconstruction,
    SplicedSummary Spliced,
    DedicationSummary Dedicated,
    DedicationSummary NeuronBaseline,
    IReadOnlyList<string> Files)
{
    public const int CurrentSchema = 1;

    public static TranscoderRunResults From(string model, TranscoderTrainingSummary? training, TranscoderAnalysis a, IReadOnlyList<string> files) =>
        new(CurrentSchema, model, training, a.Transcoder, a.AnalysisSet, a.Reconstruction, a.Spliced, a.Dedicated, a.NeuronBaseline, files);
}

/// <summary>How the transcoder was trained (absent when an existing one was analysed).</summary>
/// <param name="Options">every training option, as given</param>
/// <param name="Log">the training curves: means over the steps between points</param>
public sealed record TranscoderTrainingSummary(TranscoderTrainingOptions Options, bool Completed, long Steps, long Positions, double WallSeconds,
    double PositionsPerSecond, double InputScale, double OutputScale, int Resampled, IReadOnlyList<TranscoderLogEntry> Log)
{
    public static TranscoderTrainingSummary From(TranscoderTrainingOptions options, TranscoderTrainingResult r) =>
        new(options, r.Completed, r.Steps, r.PositionsTrained, r.WallSeconds, r.PositionsPerSecond, r.InputScale, r.OutputScale, r.Resampled, r.Log);
}

/// <summary>The JSON of transcoder results: snake_case keys, indented, non-finite numbers as strings.</summary>
public static class TranscoderJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static void Write<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value) + "\n");
}
