using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrigramLens.Checkpoints;
using TrigramLens.Figures;
using TrigramLens.Model;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study.Report;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>How the study's transcoder section gets its transcoder.</summary>
/// <param name="Training">options when it trains one (the default transcoder unless changed)</param>
/// <param name="TranscoderDirectory">study this SAELens folder instead of training (the study's <c>--transcoder DIR</c>)</param>
/// <param name="ModelPath">the model's file: a transcoder trained for it is kept as <c>NAME.transcoder/</c> and reused while
/// the model file (SHA-256) and the options are unchanged, as the study reuses a trained model</param>
/// <param name="KeepDirectory">where <c>NAME.transcoder/</c> is kept (default: beside the model file)</param>
/// <param name="Threads">workers for training</param>
/// <param name="Progress">training progress, when one is trained</param>
public sealed record TranscoderSectionOptions(TranscoderTrainingOptions? Training = null, string? TranscoderDirectory = null,
    string? ModelPath = null, string? KeepDirectory = null, int Threads = 2, IProgress<TranscoderProgress>? Progress = null)
{
    public TranscoderTrainingOptions EffectiveTraining => Training ?? TranscoderRecipe.Default;

    /// <summary>Where a transcoder trained for <see cref="ModelPath"/> is kept, or null without a model file.</summary>
    public string? KeptTranscoder => ModelPath is null ? null
        : Path.Combine(KeepDirectory ?? Path.GetDirectoryName(Path.GetFullPath(ModelPath))!, Path.GetFileNameWithoutExtension(ModelPath) + ".transcoder");
}

/// <summary>Every number of the study's section 9 (results.json section <c>transcoder</c>).</summary>
/// <param name="Source">"trained", "reused" (found beside the model, same model file and options) or "given" (<c>--transcoder</c>)</param>
/// <param name="Directory">where the transcoder's SAELens folder is (null when trained without a model file to save beside)</param>
/// <param name="Training">how it was trained, when this run trained it (null when reused or given)</param>
public sealed record TranscoderSectionResults(
    string Source,
    string? Directory,
    TranscoderTrainingSummary? Training,
    TranscoderSummary Transcoder,
    ReconstructionSummary Reconstruction,
    SplicedSummary Spliced,
    DedicationSummary Dedicated,
    DedicationSummary NeuronBaseline,
    IReadOnlyList<TranscoderFigure> Figures);

/// <summary>A figure the section queued: file name (in the figure folder) and caption.</summary>
public sealed record TranscoderFigure(string File, string Caption);

/// <summary>
/// The study's sparse-transcoder section (study-spec §4 item 9) as one call: get the transcoder (given, reused from beside
/// the model, or trained with the default options), analyse it on the study's analysis set, queue its figures on the
/// study's <see cref="FigureBatch"/>, and return every number.
/// </summary>
public static class TranscoderSection
{
    /// <summary>The analysis set: 2,500 sequences (seed 40 for the challenge), every position.</summary>
    public const int AnalysisRows = 2500;
    const string OptionsKey = "trigramlens_training", ModelHashKey = "trigramlens_model_sha256";

    /// <param name="figureDirectory">where the queued figures will be rendered</param>
    /// <returns>the section's numbers, and the transcoder as the interactive report shows it (its dedicated features by the
    /// headline's criterion)</returns>
    public static (TranscoderSectionResults Results, TranscoderReport Report) Run(HookedTransformer model, TrigramDataset analysisSet,
        TranscoderSectionOptions options, FigureBatch figures, string figureDirectory, CancellationToken cancellation = default)
    {
        var (transcoder, source, directory, training) = LoadOrTrain(model, analysisSet.Trigrams, options, options.Progress, cancellation);
        using (transcoder)
        {
            var analysis = Analyse(model, transcoder, analysisSet);
            var queued = new List<TranscoderFigure>();
            foreach (var f in TranscoderOutput.Figures(analysis, analysisSet.Trigrams, training))
            {
                string file = "transcoder-" + f.File;
                figures.Add(f.Figure, Path.Combine(figureDirectory, file), f.Width, f.Height);
                queued.Add(new TranscoderFigure(file, f.Caption));
            }
            var results = new TranscoderSectionResults(source, directory, training, analysis.Transcoder, analysis.Reconstruction, analysis.Spliced,
                analysis.Dedicated, analysis.NeuronBaseline, queued);
            return (results, Report(transcoder, analysis));
        }
    }

    /// <summary>The transcoder for the report page: a copy (the caller may dispose its own), headline numbers, and its dedicated features.</summary>
    public static TranscoderReport Report(Transcoder transcoder, TranscoderAnalysis analysis)
    {
        return new TranscoderReport
        {
            Transcoder = transcoder.Copy(),
            Summary = new Dictionary<string, double>
            {
                ["trigrams_with_a_dedicated_feature"] = analysis.Dedicated.TrigramsOwned,
                ["trigrams_with_a_dedicated_neuron"] = analysis.NeuronBaseline.TrigramsOwned,
                ["trigrams_ownable_at_most"] = analysis.Dedicated.OwnableAtMost,
                ["spliced_trigram_accuracy"] = analysis.Spliced.Spliced.Correct,
                ["explained_variance"] = analysis.Reconstruction.ExplainedVariance,
                ["l0"] = analysis.Reconstruction.L0,
                ["dead_features"] = analysis.Reconstruction.Dead,
                ["loss_recovered_vs_mean_ablation"] = analysis.Spliced.Loss.RecoveredVsMeanAblation,
            },
            Dedicated = analysis.Dedicated.Table.GroupBy(d => d.Feature).ToDictionary(g => g.Key, g => new[] { g.First().A, g.First().B, g.First().C }),
            DedicatedRule = $"at least {DedicatedFeatures.DefaultShare:P0} of its mass lies on this prefix and its top logit effect is the completion.",
        };
    }

    /// <summary>The analysis of a transcoder on the analysis set (<see cref="TrigramTranscoderAnalysis"/>).</summary>
    public static TranscoderAnalysis Analyse(HookedTransformer model, Transcoder transcoder, TrigramDataset analysisSet) =>
        TrigramTranscoderAnalysis.Run(model, transcoder, analysisSet);

    /// <summary>
    /// The given transcoder; else the one beside the model if it was trained for the same model file (SHA-256) with the same
    /// options; else a new one, trained and (with a model path) saved beside the model. The caller disposes the transcoder.
    /// </summary>
    public static (Transcoder Transcoder, string Source, string? Directory, TranscoderTrainingSummary? Training) LoadOrTrain(HookedTransformer model,
        TrigramSet trigrams, TranscoderSectionOptions options, IProgress<TranscoderProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (options.TranscoderDirectory is string given)
        {
            var loaded = TranscoderFile.Load(given);
            try
            {
                TrigramTranscoderAnalysis.EnsureFits(model, loaded);
            }
            catch
            {
                loaded.Dispose();
                throw;
            }
            return (loaded, "given", Path.GetFullPath(given), null);
        }

        var training = options.EffectiveTraining;
        string? beside = options.KeptTranscoder;
        string? hash = options.ModelPath is string p ? Sha256(p) : null;
        string optionsJson = TranscoderJson.Serialize(training);
        if (beside is not null && Reusable(beside, hash!, optionsJson) is { } reused) return (reused, "reused", beside, null);

        var result = TrigramTranscoderTraining.Train(model, trigrams, training, options.Threads,
            options.ModelPath is null ? null : Path.GetFileName(options.ModelPath), progress, cancellation);
        if (!result.Completed)
        {
            result.Transcoder.Dispose();
            throw new OperationCanceledException("transcoder training was stopped");
        }
        if (beside is not null)
            TranscoderFile.Save(result.Transcoder, beside, new Dictionary<string, JsonNode?>
            {
                [OptionsKey] = JsonNode.Parse(optionsJson),
                [ModelHashKey] = hash,
            });
        return (result.Transcoder, "trained", beside, TranscoderTrainingSummary.From(training, result));
    }

    static Transcoder? Reusable(string directory, string modelHash, string optionsJson)
    {
        string config = Path.Combine(directory, TranscoderFile.ConfigFile);
        if (!File.Exists(config)) return null;
        try
        {
            var metadata = JsonNode.Parse(File.ReadAllText(config))?["metadata"];
            if (metadata?[ModelHashKey]?.GetValue<string>() != modelHash) return null;
            if (!JsonNode.DeepEquals(metadata[OptionsKey], JsonNode.Parse(optionsJson))) return null;
            return TranscoderFile.Load(directory);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or CheckpointException)
        {
            return null;   // unreadable or foreign: train again over it
        }
    }

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
