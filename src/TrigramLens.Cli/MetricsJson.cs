using TrigramLens.Trigrams.Evaluation;

namespace TrigramLens.Cli;

/// <summary>The JSON shape of accuracy and metrics, shared by every command that prints them.</summary>
static class MetricsJson
{
    public static object From(TrigramAccuracy a) => new
    {
        correct = a.Correct,
        total = a.Total,
        fraction = a.Fraction,
        misses = a.Misses.Select(m => new { a = m.A, b = m.B, c = m.C, predicted = m.Predicted }),
    };

    public static object From(TrigramModelMetrics m) => new
    {
        trigram_accuracy = From(m.Accuracy),
        mean_correct_probability = m.MeanCorrectProbability,
        loss = m.Loss,
        loss_as_fraction = m.LossAsFraction,
    };
}
