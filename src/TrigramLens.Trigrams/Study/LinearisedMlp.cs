using TorchSharp;
using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Trigrams.Study;

/// <summary>Summary of the MLP Jacobians over the analysis set, and the linearised model built from them.</summary>
/// <param name="Mean">[d_model, d_model] mean of J over rows and positions</param>
/// <param name="Median">[d_model, d_model] median over rows, then over positions (lower median, as torch.median)</param>
/// <param name="MedianBias">[d_model] median over rows then positions of <c>mlp_out − J x</c></param>
/// <param name="Linearised">trigram accuracy of <c>unembed(b + x + J_median x)</c> at position 1 of each <c>[a, b]</c></param>
public sealed record LinearisedMlpResult(Tensor Mean, Tensor Median, Tensor MedianBias, TrigramAccuracy Linearised, long Positions) : IDisposable
{
    public void Dispose()
    {
        Mean.Dispose();
        Median.Dispose();
        MedianBias.Dispose();
    }
}

public static class LinearisedMlp
{
    /// <summary>
    /// Computes every (row, position) Jacobian in closed form, one position at a time so memory stays at one
    /// <c>[d_model², rows]</c> slice laid out for fast medians over rows, and reduces them as the published study did.
    /// </summary>
    /// <param name="residMid">[rows, pos, d_model] from the analysis cache</param>
    /// <param name="mlpOut">[rows, pos, d_model] from the analysis cache</param>
    public static LinearisedMlpResult Evaluate(HookedTransformer model, TrigramSet trigrams, Tensor residMid, Tensor mlpOut)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long rows = residMid.shape[0], positions = residMid.shape[1], dModel = model.Cfg.d_model;
        var mlp = model.blocks[0].mlp!;
        var mapsT = MlpJacobian.RankOneMaps(model, 0).T.contiguous();                 // [out·in, d_mlp]
        var sum = zeros(dModel * dModel);
        var medians = new Tensor[positions];
        var biases = new Tensor[positions];
        for (long p = 0; p < positions; p++)
        {
            using var step = NewDisposeScope();
            var x = residMid[.., p];                                                  // [rows, d_model]
            var slopes = MlpJacobian.Slopes(model, 0, x);                             // [rows, d_mlp]
            var jacobiansT = matmul(mapsT, slopes.T);                                 // [out·in, rows]
            sum.add_(jacobiansT.sum(1), One);
            medians[p] = Median.Lower(jacobiansT, -1).MoveToOuterDisposeScope();
            // J x without forming J: W_outᵀ diag(slope) W_inᵀ x.
            var projected = matmul(matmul(x, mlp.W_in) * slopes, mlp.W_out);         // [rows, d_model]
            biases[p] = Median.Lower((mlpOut[.., p] - projected).T, -1).MoveToOuterDisposeScope();
        }
        using var count = (rows * positions).ToScalar();
        var mean = sum.div(count).view(dModel, dModel);
        var median = Median.Lower(stack(medians, 1), -1).view(dModel, dModel);
        var bias = Median.Lower(stack(biases, 1), -1);

        var (_, cache) = model.RunWithCache(trigrams.Prefixes(), "blocks.0.hook_resid_mid");
        using (cache)
        {
            var x = cache["resid_mid", 0][.., 1];                                     // [n, d_model]
            var residPost = bias.add(x, One).add_(matmul(x, median.T), One);
            var accuracy = TrigramAccuracy.FromLogits(trigrams, model.unembed.call(residPost));
            return new LinearisedMlpResult(
                mean.MoveToOuterDisposeScope(), median.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope(),
                accuracy, rows * positions);
        }
    }
}
