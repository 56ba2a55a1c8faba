using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

public class MlpJacobianTests
{
    [Theory]
    [InlineData(ActivationFunction.Relu)]
    [InlineData(ActivationFunction.Gelu)]
    public void Closed_form_agrees_with_autograd_through_hooks(ActivationFunction act)
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None, act: act, attnResult: true));
        using var g = new Generator(11);
        var tokens = randint(0, 11, [3, 9], generator: g);
        for (int layer = 0; layer < 2; layer++)
        {
            var viaHooks = MlpJacobian.ViaHooks(model, tokens, layer);
            var (_, cache) = model.RunWithCache(tokens, $"blocks.{layer}.hook_resid_mid");
            using (cache)
            {
                var closed = MlpJacobian.ClosedForm(model, layer, cache["resid_mid", layer]);
                Assert.Equal([3, 9, 12, 12], viaHooks.shape);
                Assert.Equal(viaHooks.shape, closed.shape);
                Assert.True((viaHooks - closed).abs().max().item<float>() < 1e-5, $"layer {layer}");
                Assert.True(closed.abs().max().item<float>() > 0.01, "a zero Jacobian would agree trivially");
            }
        }
    }

    [Fact]
    public void Jacobian_predicts_the_mlp_output_change_for_a_small_step()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None, act: ActivationFunction.Gelu));
        using var _ = no_grad();
        var mlp = model.blocks[0].mlp!;
        using var g = new Generator(5);
        var x = randn([4, 12], generator: g);
        var step = Held.Mul(randn([4, 12], generator: g), 1e-3);
        var change = mlp.call(Held.Add(x, step)) - mlp.call(x);
        var predicted = matmul(MlpJacobian.ClosedForm(model, 0, x), step.unsqueeze(-1)).squeeze(-1);
        Assert.True((change - predicted).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void Closed_form_refuses_LayerNorm_models()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.LN));
        Assert.Throws<NotSupportedException>(() => MlpJacobian.ClosedForm(model, 0, zeros(2, 12)));
    }
}
