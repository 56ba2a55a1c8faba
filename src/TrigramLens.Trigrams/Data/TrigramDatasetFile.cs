using System.Globalization;
using TrigramLens.Checkpoints;
using TrigramLens.IO;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Data;

/// <summary>
/// Exports a dataset: its tokens as a safetensors file (key <c>tokens</c>, generator settings and trigrams as
/// metadata) and the trigram list as JSON beside it (<c>name.trigrams.json</c>).
/// </summary>
public static class TrigramDatasetFile
{
    public static string TrigramsPathFor(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + ".trigrams.json");

    /// <returns>the path of the trigram JSON written beside <paramref name="path"/></returns>
    public static string Save(TrigramDataset dataset, string path)
    {
        var c = dataset.Config;
        var metadata = new Dictionary<string, string>
        {
            ["seed"] = c.Seed.ToString(CultureInfo.InvariantCulture),
            ["d_vocab"] = c.DVocab.ToString(CultureInfo.InvariantCulture),
            ["seq_len"] = c.SeqLen.ToString(CultureInfo.InvariantCulture),
            ["n_trigrams"] = dataset.Trigrams.Count.ToString(CultureInfo.InvariantCulture),
            ["trigram_prob"] = c.ResolvedTrigramProb.ToString("R", CultureInfo.InvariantCulture),
            ["trigrams"] = dataset.Trigrams.ToJson(),
        };
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["tokens"] = dataset.Tokens }, metadata);
        string trigramsPath = TrigramsPathFor(path);
        AtomicFile.WriteAllText(trigramsPath, dataset.Trigrams.ToJson());
        return trigramsPath;
    }
}
