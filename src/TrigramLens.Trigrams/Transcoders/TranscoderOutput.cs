using System.Text.Json.Nodes;
using TrigramLens.Figures;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>
/// Writes a transcoder run's folder all at once: everything goes into a staging folder inside it and is moved into place
/// only when complete, so a failed run leaves the previous one as it was. The folder holds the transcoder in SAELens's
/// layout (<see cref="TranscoderFolder"/>/: <c>cfg.json</c>, <c>sae_weights.safetensors</c>), <c>metrics.json</c>,
/// <c>features.json</c>, <c>features.html</c> and the figures.
/// </summary>
public static class TranscoderOutput
{
    public const string TranscoderFolder = "transcoder";
    public const string MetricsFile = "metrics.json", FeaturesFile = "features.json", PageFile = "features.html";

    /// <returns>the files written, relative to <paramref name="directory"/></returns>
    public static IReadOnlyList<string> Write(string directory, string modelSource, Transcoder transcoder, TranscoderAnalysis analysis,
        TrigramSet trigrams, TranscoderTrainingSummary? training)
    {
        string full = Path.GetFullPath(directory);
        if (File.Exists(full)) throw new IOException($"'{full}' is a file; the transcoder's outputs need a folder");
        string staging = Path.Combine(full, $".staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var figures = Figures(analysis, trigrams, training);
            var batch = new FigureBatch();
            foreach (var f in figures) batch.Add(f.Figure, Path.Combine(staging, f.File), f.Width, f.Height);
            batch.RenderAll();

            var extra = training is null ? null : new Dictionary<string, JsonNode?>
            {
                ["trigramlens_training"] = JsonNode.Parse(TranscoderJson.Serialize(training.Options)),
            };
            TranscoderFile.Save(transcoder, Path.Combine(staging, TranscoderFolder), extra);
            var files = new List<string>
            {
                Path.Combine(TranscoderFolder, TranscoderFile.ConfigFile), Path.Combine(TranscoderFolder, TranscoderFile.WeightsFile),
                MetricsFile, FeaturesFile, PageFile,
            };
            files.AddRange(figures.Select(f => f.File));
            TranscoderJson.Write(Path.Combine(staging, MetricsFile), TranscoderRunResults.From(modelSource, training, analysis, files));
            TranscoderJson.Write(Path.Combine(staging, FeaturesFile), new { features = analysis.Features, neurons = analysis.Neurons, density = analysis.Density });
            TranscoderFeaturePage.Write(Path.Combine(staging, PageFile), modelSource, analysis, figures.Select(f => (f.File, f.Caption)).ToList());

            foreach (string file in files)
            {
                string target = Path.Combine(full, file);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(Path.Combine(staging, file), target, overwrite: true);
            }
            Directory.Delete(staging, recursive: true);
            return files;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary>The figures of one run: (figure, file, caption, size).</summary>
    public static IReadOnlyList<(IFigure Figure, string File, string Caption, int Width, int Height)> Figures(TranscoderAnalysis a, TrigramSet trigrams,
        TranscoderTrainingSummary? training)
    {
        var list = new List<(IFigure, string, string, int, int)>();
        if (training is { Log.Count: > 0 })
        {
            list.Add((TranscoderFigures.TrainingCurves(training.Log, $"{a.Transcoder.Architecture}, {a.Transcoder.DSae} features: training"),
                "training-curves.png", "Normalised MSE and dead fraction over training", 900, 500));
            list.Add((TranscoderFigures.TrainingL0(training.Log), "training-l0.png", "Active features per position over training", 900, 500));
        }
        list.Add((TranscoderFigures.DensityHistogram(a.Density), "density.png", "log10 feature density over the analysis set", 900, 500));
        list.Add((TranscoderFigures.Ownership(a.Masses, trigrams, "feature", a.Dedicated.TrigramsOwned), "ownership.png",
            "Trigram × feature ownership: share of each feature's mass on each trigram prefix", 1400, 2400));
        list.Add((TranscoderFigures.Ownership(a.NeuronMasses, trigrams, "neuron", a.NeuronBaseline.TrigramsOwned), "ownership-neurons.png",
            "The baseline: trigram × MLP neuron, share of each neuron's mass on each trigram prefix", 900, 2400));
        return list;
    }
}
