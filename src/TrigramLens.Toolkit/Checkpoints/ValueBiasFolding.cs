using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Checkpoints;

/// <summary>
/// TransformerLens's <c>fold_value_biases</c>: since attention weights sum to one, each head's value bias contributes
/// the constant <c>b_V @ W_O</c> to the output; move it into <c>b_O</c> and zero <c>b_V</c>. Outputs are unchanged.
/// </summary>
public static class ValueBiasFolding
{
    /// <summary>Returns a new state dict with folded value biases; the input is not modified.</summary>
    public static Dictionary<string, Tensor> Fold(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        var folded = new Dictionary<string, Tensor>(stateDict, StringComparer.Ordinal);
        for (int layer = 0; folded.ContainsKey($"blocks.{layer}.attn.b_V"); layer++)
        {
            var bV = folded[$"blocks.{layer}.attn.b_V"];   // [n_heads, d_head]
            var wO = folded[$"blocks.{layer}.attn.W_O"];   // [n_heads, d_head, d_model]
            var bO = folded[$"blocks.{layer}.attn.b_O"];   // [d_model]
            folded[$"blocks.{layer}.attn.b_O"] = bO.add((bV.unsqueeze(-1) * wO).sum([0, 1]), One);
            folded[$"blocks.{layer}.attn.b_V"] = zeros_like(bV);
        }
        return folded;
    }
}
