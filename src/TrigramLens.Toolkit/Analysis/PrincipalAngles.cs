using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Analysis;

/// <summary>
/// Principal angles between two subspaces of the residual stream: the cosines are the singular values of
/// <c>Q₁ᵀ Q₂</c>, where <c>Q₁</c>, <c>Q₂</c> are orthonormal bases from QR. Cosine 1 means a shared direction.
/// </summary>
public static class PrincipalAngles
{
    /// <summary>
    /// Cosines between the subspace a component writes (spanned by the rows of <paramref name="writer"/>, e.g.
    /// <c>W_O[layer, head]</c> <c>[d_head, d_model]</c>) and the one a component reads (spanned by the columns of
    /// <paramref name="reader"/>, e.g. <c>W_in</c> <c>[d_model, d_mlp]</c>). Returns <c>[min(rank₁, rank₂)]</c>, descending.
    /// </summary>
    public static Tensor WriteReadCosines(Tensor writer, Tensor reader)
    {
        if (writer.dim() != 2 || reader.dim() != 2)
            throw new ArgumentException($"writer [{string.Join(", ", writer.shape)}] and reader [{string.Join(", ", reader.shape)}] must be matrices");
        if (writer.shape[1] != reader.shape[0])
            throw new ArgumentException($"writer [{string.Join(", ", writer.shape)}] and reader [{string.Join(", ", reader.shape)}] must share the residual dimension");
        using var _ = no_grad();
        var (qWrite, _) = linalg.qr(writer.T);      // [d_model, k]
        var (qRead, _) = linalg.qr(reader);         // [d_model, m]
        return linalg.svdvals(matmul(qWrite.T, qRead));
    }

    /// <summary>
    /// Cosines between what head <paramref name="head"/> of <paramref name="layer"/> writes (<c>W_O[layer, head]</c>) and
    /// what the layer's MLP reads (<c>W_in[layer]</c>). Refuses models with LayerNorm, whose <c>ln2</c> re-centres and
    /// re-scales the residual between the two.
    /// </summary>
    public static Tensor HeadToMlp(HookedTransformer model, int layer, int head)
    {
        LayerNormFree.Require(model, "PrincipalAngles.HeadToMlp");
        var block = model.blocks[layer];
        var mlp = block.mlp ?? throw new InvalidOperationException("This model is attention-only: it has no MLP.");
        return WriteReadCosines(block.attn.W_O[head], mlp.W_in);
    }
}
