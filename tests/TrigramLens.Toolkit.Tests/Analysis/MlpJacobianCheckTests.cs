using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

public class MlpJacobianCheckTests
{
    [Fact]
    public void The_check_is_the_largest_difference_of_the_two_ways_and_small_for_a_correct_closed_form()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 6));
        using var g = new Generator(1);
        var tokens = randint(0, 75, [2, 12], generator: g);
        double check = MlpJacobianCheck.MaxDisagreement(model, 0, tokens);

        var (_, cache) = model.RunWithCache(tokens, "blocks.0.hook_resid_mid");
        using (cache)
        {
            var expected = (MlpJacobian.ViaHooks(model, tokens, 0) - MlpJacobian.ClosedForm(model, 0, cache["resid_mid", 0])).abs().max().item<float>();
            Assert.Equal(expected, check, 7);
        }
        Assert.InRange(check, 0, 1e-5);
    }
}
