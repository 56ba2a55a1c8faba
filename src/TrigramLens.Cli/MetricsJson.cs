using TrigramLens.Trigrams.Evaluation;

namespace TrigramLens.Cli;

/// <summary>The JSON shape of a model's metrics (accuracy records serialise as themselves: correct, total, fraction, misses).</summary>
static class MetricsJson
{
    public static object From(TrigramModelMetrics m) => new
    {
        trigram_accuracy = m.Accuracy,
        mean_correct_probability = m.MeanCorrectProbability,
        loss = m.Loss,
        loss_as_fraction = m.LossAsFraction,
    };
}
