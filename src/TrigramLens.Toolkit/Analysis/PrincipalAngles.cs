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
        if (writer.shape[1] != reader.shape[0])
            throw new ArgumentException($"writer [{string.Join(", ", writer.shape)}] and reader [{string.Join(", ", reader.shape)}] must share the residual dimension");
        using var _ = no_grad();
        var (qWrite, _) = linalg.qr(writer.T);      // [d_model, k]
        var (qRead, _) = linalg.qr(reader);         // [d_model, m]
        return linalg.svdvals(matmul(qWrite.T, qRead));
    }
}
