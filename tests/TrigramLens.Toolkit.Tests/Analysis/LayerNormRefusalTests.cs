using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

/// <summary>Analyses that read weights straight into each other refuse models with LayerNorm rather than leave it out.</summary>
public class LayerNormRefusalTests
{
    public static TheoryData<NormalizationType> Normalised => [NormalizationType.LN, NormalizationType.LNPre];

    static readonly long[] Tokens = [4, 9, 1, 1, 7, 3];

    public static TheoryData<string> Analyses => ["Positional", "TokenOnly", "TokenPairMap", "ClosedForm", "Slopes", "RankOneMaps", "HeadToMlp"];

    static Tensor Run(string analysis, HookedTransformer model) => analysis switch
    {
        "Positional" => QkScores.Positional(model, 0, 1),
        "TokenOnly" => QkScores.TokenOnly(model, tensor(Tokens), 0, 1, causal: true),
        "TokenPairMap" => QkScores.TokenPairMap(model, Held.Range(11), 1, 2),
        "ClosedForm" => MlpJacobian.ClosedForm(model, 0, randn(2, 3, model.Cfg.d_model)),
        "Slopes" => MlpJacobian.Slopes(model, 0, randn(2, 3, model.Cfg.d_model)),
        "RankOneMaps" => MlpJacobian.RankOneMaps(model, 1),
        "HeadToMlp" => PrincipalAngles.HeadToMlp(model, 0, 1),
        _ => throw new ArgumentException(analysis),
    };

    [Theory, MemberData(nameof(Analyses))]
    public void Each_refuses_LN_and_LNPre_models_in_one_line_and_runs_without_LayerNorm(string analysis)
    {
        foreach (var norm in new[] { NormalizationType.LN, NormalizationType.LNPre })
        {
            using var model = new HookedTransformer(TinyModels.Deep(norm: norm));
            var e = Assert.Throws<NotSupportedException>(() => Run(analysis, model));
            Assert.Contains($"normalization_type {norm}", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        using var plain = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None));
        Assert.False(Run(analysis, plain).isnan().any().item<bool>());
    }

    [Theory, MemberData(nameof(Normalised))]
    public void Autograd_Jacobians_go_through_ln2_and_agree_with_finite_differences(NormalizationType norm)
    {
        // ViaHooks differentiates the real forward pass, so it stays available with LayerNorm.
        using var model = new HookedTransformer(TinyModels.Deep(norm: norm));
        var tokens = tensor(new long[] { 1, 2, 3 }).view(1, 3);
        var jacobian = MlpJacobian.ViaHooks(model, tokens, 0);                    // [1, 3, out, in]
        Assert.Equal([1, 3, 12, 12], jacobian.shape);

        var (_, cache) = model.RunWithCache(tokens, "blocks.0.hook_resid_mid");
        using (cache)
        using (no_grad())
        {
            var mid = cache["resid_mid", 0][0, 2].to(ScalarType.Float64);          // one position
            var block = model.blocks[0];
            Tensor Mlp(Tensor x) => block.mlp!.call(block.ln2!.call(x.to(ScalarType.Float32))).to(ScalarType.Float64);
            const double h = 1e-3;
            for (int i = 0; i < 12; i += 5)
            {
                var step = zeros(12, dtype: ScalarType.Float64);
                step[i] = h;
                var column = Held.Div(Mlp(Held.Add(mid, step)) - Mlp(mid - step), 2 * h);          // d mlp_out / d x_i
                Assert.True(column.allclose(jacobian[0, 2, .., i].to(ScalarType.Float64), atol: 2e-3), $"column {i}");
            }
        }
    }
}
