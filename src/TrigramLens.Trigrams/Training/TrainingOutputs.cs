namespace TrigramLens.Trigrams.Training;

/// <summary>The files of a training run, named after its model file <c>NAME.safetensors</c>.</summary>
/// <param name="Model">weights (TransformerLens names) and config, loadable by <c>eval</c> and TransformerLens; rewritten every epoch</param>
/// <param name="Resume">weights, optimizer moments, generator state, position and recipe: everything <c>--resume</c> needs</param>
/// <param name="Metrics">one JSON line per epoch</param>
/// <param name="Curves">loss and trigram accuracy per epoch, written at the end</param>
public sealed record TrainingOutputs(string Model, string Resume, string Metrics, string Curves)
{
    public static TrainingOutputs For(string modelPath)
    {
        string full = Path.GetFullPath(modelPath);
        string stem = full.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? full[..^".safetensors".Length] : full;
        return new TrainingOutputs(full, stem + ".resume.safetensors", stem + ".metrics.jsonl", stem + ".curves.png");
    }
}
