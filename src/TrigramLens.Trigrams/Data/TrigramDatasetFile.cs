using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TrigramLens.Checkpoints;
using TrigramLens.IO;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Trigrams.Data;

/// <summary>
/// A dataset on disk: its tokens as a safetensors file (key <c>tokens</c>, generator settings and trigrams as
/// metadata) and the trigram list as JSON beside it (<c>name.trigrams.json</c>). <see cref="Load"/> refuses, with one
/// <see cref="CheckpointException"/> line, any file that is not exactly what <see cref="Save"/> writes.
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

    /// <summary>
    /// Reads a dataset written by <see cref="Save"/>, checking: one int64 <c>tokens [size, seq_len]</c> tensor with values in
    /// <c>[0, d_vocab)</c>; the settings in the metadata; the trigram list (valid, consistent, as many as recorded, and
    /// equal to the JSON beside the file when that exists); and that every trigram prefix in the tokens is followed by
    /// its completion, as generation leaves it.
    /// </summary>
    public static TrigramDataset Load(string path)
    {
        string source = $"'{path}'";
        if (CheckpointFile.Detect(path, "dataset") != CheckpointFormat.Safetensors)
            throw new CheckpointException($"{source} is a PyTorch file, not a dataset (TrigramLens writes datasets as safetensors)");
        var (tensors, metadata) = SafetensorsFile.Load(path);
        TrigramDataset? dataset = null;
        try
        {
            if (tensors.Count != 1 || !tensors.TryGetValue("tokens", out var tokens))
                throw Invalid(source, $"it holds {string.Join(", ", tensors.Keys.Select(k => $"'{CheckpointText.Shorten(k)}'"))} instead of one 'tokens' tensor");
            var config = new TrigramDataConfig
            {
                Seed = Integer(metadata, "seed", source),
                DVocab = Integer(metadata, "d_vocab", source),
                SeqLen = Integer(metadata, "seq_len", source),
                TrigramProb = Real(metadata, "trigram_prob", source),
                NTrigrams = Integer(metadata, "n_trigrams", source),
            };
            try
            {
                config.Validate();
            }
            catch (ArgumentException e)
            {
                throw Invalid(source, e.Message);
            }
            if (tokens.dtype != ScalarType.Int64 || tokens.dim() != 2 || tokens.shape[1] != config.SeqLen)
                throw Invalid(source, $"'tokens' is {tokens.dtype} {Shape(tokens)}; expected Int64 [size, {config.SeqLen}]");
            if (tokens.numel() > 0)
            {
                using var scope = NewDisposeScope();
                long min = tokens.min().item<long>(), max = tokens.max().item<long>();
                if (min < 0 || max >= config.DVocab)
                    throw Invalid(source, $"'tokens' holds values from {min} to {max}, outside [0, {config.DVocab})");
            }

            var trigrams = Trigrams(metadata.TryGetValue("trigrams", out var json) ? json : throw Invalid(source, "no 'trigrams' in its metadata"),
                config, source);
            string beside = TrigramsPathFor(path);
            if (File.Exists(beside))
            {
                string text;
                try
                {
                    text = File.ReadAllText(beside);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new CheckpointException($"cannot read '{beside}' ({e.Message})", e);
                }
                if (!SameTrigrams(text, trigrams))
                    throw Invalid(source, $"its trigrams differ from those in '{beside}'");
            }
            RequirePlanted(tokens, trigrams, source);

            dataset = new TrigramDataset(config, trigrams, tokens);   // owns the tokens now
            return dataset;
        }
        finally
        {
            if (dataset is null) foreach (var t in tensors.Values) t.Dispose();
        }
    }

    static TrigramSet Trigrams(string json, TrigramDataConfig config, string source)
    {
        int[][] triples;
        try
        {
            triples = JsonSerializer.Deserialize<int[][]>(json) ?? throw Invalid(source, "its trigram list is null");
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"its trigram list is not a JSON list of [a, b, c] ({CheckpointText.FirstLine(e.Message)})");
        }
        if (triples.Any(t => t is null || t.Length != 3))
            throw Invalid(source, "its trigram list has an entry that is not [a, b, c]");
        if (triples.Length != config.NTrigrams)
            throw Invalid(source, $"it records n_trigrams = {config.NTrigrams} but lists {triples.Length} trigrams");
        try
        {
            return new TrigramSet(triples.Select(t => new Trigram(t[0], t[1], t[2])).ToList(), config.DVocab);
        }
        catch (ArgumentException e)
        {
            throw Invalid(source, e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    static bool SameTrigrams(string json, TrigramSet trigrams)
    {
        try
        {
            var triples = JsonSerializer.Deserialize<int[][]>(json);
            return triples is not null && triples.Length == trigrams.Count
                && triples.Zip(trigrams.Trigrams).All(p => p.First is [var a, var b, var c] && new Trigram(a, b, c) == p.Second);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Wherever a trigram's prefix occurs, its completion must follow, as generation plants it.</summary>
    static void RequirePlanted(Tensor tokens, TrigramSet trigrams, string source)
    {
        if (tokens.numel() == 0 || trigrams.Count == 0) return;
        using var scope = NewDisposeScope();
        var table = trigrams.CompletionTable();
        long seqLen = tokens.shape[1];
        using var vocab = ((long)trigrams.DVocab).ToScalar();   // held for the calls that read it
        using var zero = 0L.ToScalar();
        var keys = tokens[.., ..(int)(seqLen - 2)].mul(vocab).add_(tokens[.., 1..(int)(seqLen - 1)], One);
        var completion = table.index_select(0, keys.flatten()).view(keys.shape);
        var wrong = completion.ge(zero).logical_and(completion.ne(tokens[.., 2..])).nonzero();
        if (wrong.shape[0] > 0)
        {
            long row = wrong[0, 0].item<long>(), pos = wrong[0, 1].item<long>();
            throw Invalid(source, $"row {row} has a trigram prefix at position {pos} not followed by its completion ({wrong.shape[0]} such places)");
        }
    }

    static int Integer(Dictionary<string, string> metadata, string key, string source) =>
        metadata.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw Invalid(source, $"'{key}' in its metadata is {(text is null ? "missing" : $"'{CheckpointText.Shorten(text)}', not an integer")}");

    static double Real(Dictionary<string, string> metadata, string key, string source) =>
        metadata.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
            ? value
            : throw Invalid(source, $"'{key}' in its metadata is {(text is null ? "missing" : $"'{CheckpointText.Shorten(text)}', not a number")}");

    static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    static CheckpointException Invalid(string source, string why) => new($"{source} is not a TrigramLens dataset: {why}");
}
