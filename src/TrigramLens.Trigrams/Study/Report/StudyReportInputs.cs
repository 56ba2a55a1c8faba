using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using TrigramLens.Web;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Study.Report;

/// <summary>
/// What the interactive report needs beyond <see cref="StudyResults"/>: the model (its weights go into the page), the
/// analysis set's tokens (the row browser runs the model on any row) and the trigram set; the transcoder when one was
/// trained (section 9). Tokens are copied when this is made, so the caller may dispose its tensor afterwards.
/// </summary>
public sealed class StudyReportInputs
{
    public StudyReportInputs(HookedTransformer model, Tensor analysisTokens, TrigramSet trigrams, TranscoderReport? transcoder = null)
    {
        if (analysisTokens.dim() != 2) throw new ArgumentException("the analysis tokens must be [rows, seq_len]");
        Model = model;
        Rows = (int)analysisTokens.shape[0];
        SeqLen = (int)analysisTokens.shape[1];
        using (NewDisposeScope()) Tokens = analysisTokens.to(ScalarType.Int64).contiguous().data<long>().ToArray();
        Trigrams = trigrams;
        Transcoder = transcoder;
    }

    public static StudyReportInputs From(HookedTransformer model, TrigramDataset analysisSet, TranscoderReport? transcoder = null) =>
        new(model, analysisSet.Tokens, analysisSet.Trigrams, transcoder);

    public HookedTransformer Model { get; }
    public int Rows { get; }
    public int SeqLen { get; }

    /// <summary>[rows * seq_len], row-major.</summary>
    public long[] Tokens { get; }

    public TrigramSet Trigrams { get; }
    public TranscoderReport? Transcoder { get; }

    /// <summary>Models with more parameters than this are not embedded (the page says so and runs nothing).</summary>
    public long MaxParameters { get; init; } = ModelExport.DefaultMaxParameters;

    /// <summary>The tokens as a tensor again ([rows, seq_len] int64), e.g. to compute activation means.</summary>
    public Tensor TokensTensor() => tensor(Tokens).view(Rows, SeqLen);

    public StudyReportInputs WithTranscoder(TranscoderReport? transcoder)
    {
        using var tokens = TokensTensor();
        return new(Model, tokens, Trigrams, transcoder) { MaxParameters = MaxParameters };
    }
}
