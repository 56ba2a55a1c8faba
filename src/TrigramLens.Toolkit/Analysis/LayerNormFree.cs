using TrigramLens.Model;

namespace TrigramLens.Analysis;

/// <summary>
/// Analyses that read weights straight into each other (embeddings into <c>W_Q</c>, <c>W_O</c> against <c>W_in</c>)
/// are exact only where no LayerNorm sits between them; on other models they refuse rather than leave it out.
/// </summary>
static class LayerNormFree
{
    /// <exception cref="NotSupportedException">the model normalises its residual stream (LN or LNPre)</exception>
    /// <param name="instead">what to use on such a model, if anything</param>
    public static void Require(HookedTransformer model, string analysis, string? instead = null)
    {
        if (model.Cfg.normalization_type != NormalizationType.None)
            throw new NotSupportedException(
                $"{analysis} assumes a model without LayerNorm; this one has normalization_type {model.Cfg.normalization_type}"
                + (instead is null ? "" : $" ({instead})"));
    }
}
