using TrigramLens.Model;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>
/// <c>trigramlens transcoder</c> as calls: the analysis set a trigram model's transcoders are measured on, and one
/// transcoder trained on the model's task, analysed, and written out (SAELens folder, metrics.json, features, figures).
/// </summary>
public static class TranscoderRun
{
    /// <summary>The analysis set of <paramref name="model"/>: <see cref="TranscoderSection.AnalysisRows"/> sequences from
    /// <paramref name="seed"/>, sized to its vocabulary and context. Refuses a model the study cannot read.</summary>
    public static TrigramDataset AnalysisSet(HookedTransformer model, int seed)
    {
        TrigramStudy.EnsureSupported(model.Cfg);
        return TrigramDataset.Generate(TrigramDataConfig.For(seed, model.Cfg), TranscoderSection.AnalysisRows);
    }

    /// <summary>
    /// Trains a transcoder of <paramref name="model"/>'s MLP with <paramref name="options"/>, analyses it on
    /// <paramref name="analysisSet"/> and writes everything into <paramref name="directory"/>. A stopped training is
    /// still analysed and written (<see cref="TranscoderTrainingSummary.Completed"/> says so).
    /// </summary>
    /// <param name="modelPath">the model's file, recorded in metrics.json</param>
    /// <param name="onTrained">called between training and the analysis, e.g. to say that the analysis starts</param>
    public static TranscoderRunResults Train(HookedTransformer model, string modelPath, TrigramDataset analysisSet, TranscoderTrainingOptions options,
        string directory, int threads, IProgress<TranscoderProgress>? progress = null, Action<TranscoderTrainingResult>? onTrained = null,
        CancellationToken cancellation = default)
    {
        var result = TrigramTranscoderTraining.Train(model, analysisSet.Trigrams, options, threads, Path.GetFileName(modelPath), progress, cancellation);
        using var transcoder = result.Transcoder;
        onTrained?.Invoke(result);
        var analysis = TranscoderSection.Analyse(model, transcoder, analysisSet);
        var training = TranscoderTrainingSummary.From(options, result);
        var files = TranscoderOutput.Write(directory, modelPath, transcoder, analysis, analysisSet.Trigrams, training);
        return TranscoderRunResults.From(modelPath, training, analysis, files);
    }
}
