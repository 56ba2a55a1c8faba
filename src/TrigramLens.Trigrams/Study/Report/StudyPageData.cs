using System.Text.Json.Nodes;
using TrigramLens.Web;

namespace TrigramLens.Trigrams.Study.Report;

/// <summary>
/// The data embedded in <c>report.html</c> (one JSON script element, id <c>trigramlens-data</c>), read by
/// <c>study-page.js</c>. Per-row attention and predictions are not embedded: the page computes them with the embedded
/// model, so the page stays small with the whole analysis set.
/// <code>
/// { "schema": 1,
///   "model": ModelExport JSON | null,  "model_note": why it is not embedded | null,
///   "analysis": { "rows", "seq_len", "d_vocab", "bytes_per_token": 1 | 2, "tokens": base64 row-major ids },
///   "trigrams": [[a, b, c], ...] (generation order),
///   "ablation_means": { hook name: tensor },  "ablation_means_over": text,
///   "hot_spot_threshold": 0.1, "figure_rows": [0, 1, 2], "default_input": [1, 74, 72],
///   "transcoder": TranscoderReport JSON (absent when none was trained) }
/// </code>
/// </summary>
public static class StudyPageData
{
    public const int Schema = 1;

    public static JsonObject Build(StudyResults results, StudyReportInputs inputs)
    {
        var export = ModelExport.Export(inputs.Model, inputs.MaxParameters);
        var json = new JsonObject
        {
            ["schema"] = Schema,
            ["model"] = export.Json,
            ["model_note"] = export.Reason,
            ["analysis"] = Tokens(inputs),
            ["trigrams"] = new JsonArray(inputs.Trigrams.Trigrams.Select(t => (JsonNode)new JsonArray(t.A, t.B, t.C)).ToArray()),
            ["hot_spot_threshold"] = results.TokenPairMap.Threshold,
            ["figure_rows"] = new JsonArray(results.Attention.Rows.Select(r => (JsonNode)r).ToArray()),
            ["default_input"] = new JsonArray(DefaultInput(results, inputs).Select(t => (JsonNode)t).ToArray()),
        };
        if (export.Embedded)
        {
            using var tokens = inputs.TokensTensor();
            var means = ActivationMeans.Compute(inputs.Model, tokens);
            json["ablation_means"] = ActivationMeans.ToJson(means);
            json["ablation_means_over"] = $"the analysis set: {inputs.Rows:N0} rows × {inputs.SeqLen - 1} positions (every position but the last)";
            foreach (var mean in means.Values) mean.Dispose();
        }
        if (inputs.Transcoder is { } transcoder) json["transcoder"] = transcoder.ToJson(inputs);
        return json;
    }

    /// <summary>Token ids, one byte each when the vocabulary fits, else two (little-endian), as base64.</summary>
    static JsonObject Tokens(StudyReportInputs inputs)
    {
        int dVocab = inputs.Trigrams.DVocab;
        int width = dVocab <= 256 ? 1 : 2;
        if (dVocab > 65536) throw new ArgumentException($"d_vocab {dVocab} does not fit two bytes per token");
        var bytes = new byte[inputs.Tokens.Length * width];
        for (int i = 0; i < inputs.Tokens.Length; i++)
        {
            long t = inputs.Tokens[i];
            if (t < 0 || t >= dVocab) throw new ArgumentException($"analysis token {t} is outside [0, {dVocab})");
            if (width == 1) bytes[i] = (byte)t;
            else System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)t);
        }
        return new JsonObject
        {
            ["rows"] = inputs.Rows, ["seq_len"] = inputs.SeqLen, ["d_vocab"] = dVocab, ["bytes_per_token"] = width,
            ["tokens"] = Convert.ToBase64String(bytes),
        };
    }

    /// <summary>The live input's first sequence: the published study's <c>1, 74, 72</c> when it was plotted, else the first prefix.</summary>
    static int[] DefaultInput(StudyResults results, StudyReportInputs inputs)
    {
        var plotted = results.PredictionDistributions.Select(p => p.Prefix).ToList();
        return plotted.FirstOrDefault(p => p.SequenceEqual([1, 74, 72])) ?? plotted.FirstOrDefault()
            ?? (inputs.Trigrams.Count > 0 ? [inputs.Trigrams.Trigrams[0].A, inputs.Trigrams.Trigrams[0].B] : [0]);
    }
}
