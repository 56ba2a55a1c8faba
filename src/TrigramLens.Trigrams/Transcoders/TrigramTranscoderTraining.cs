using TrigramLens.Model;
using TrigramLens.Runtime;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>
/// Trains a transcoder of a trigram model's MLP on fresh batches of the model's own task: random tokens with the
/// model's trigram set planted (<see cref="TrigramBatchSource"/>), <see cref="RowsPerBatch"/> sequences per draw, through
/// the toolkit's <see cref="TranscoderTrainer"/>, on a dedicated libtorch thread (<see cref="TorchThread"/>, one
/// libtorch thread, denormals flushed) with <paramref name="threads"/> workers for the chunks.
/// </summary>
public static class TrigramTranscoderTraining
{
    /// <summary>Sequences the model runs on per draw from the batch source.</summary>
    public const int RowsPerBatch = 64;

    public static TranscoderTrainingResult Train(HookedTransformer model, TrigramSet trigrams, TranscoderTrainingOptions options,
        int threads = 2, string? modelName = null, IProgress<TranscoderProgress>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        if (trigrams.DVocab != model.Cfg.d_vocab)
            throw new ArgumentException($"the trigram set has d_vocab {trigrams.DVocab}, the model {model.Cfg.d_vocab}");
        var source = new TrigramBatchSource(trigrams, model.Cfg.n_ctx, RowsPerBatch);
        return TorchThread.Run(new TorchThreadSettings(Threads: 1), () =>
        {
            using var trainer = new TranscoderTrainer(model, TrigramTranscoderAnalysis.HookIn, TrigramTranscoderAnalysis.HookOut, source.Draw,
                options, threads, modelName);
            return trainer.Run(progress, cancellation);
        });
    }
}
