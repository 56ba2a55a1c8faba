using TrigramLens.Kernels;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Kernels;

public class FusedCrossEntropyTests
{
    // Against libtorch's cross_entropy in double precision: the weighted loss and its gradient, differentiated directly
    // (the backward hands its gradient on) or under an upstream scale (the backward scales it).
    [Theory]
    [InlineData(1, 8, 1.0, 0.3)]
    [InlineData(37, 16, 0.5, 1.0)]
    [InlineData(4704, 75, 0.5, 1.0)]
    [InlineData(5, 13, 1.0, 0.3)]
    [InlineData(9, 3, 0.25, 1.0)]      // shorter than a vector: libtorch's path
    public void Loss_and_gradient_are_cross_entropys(int rows, int classes, double weight, double upstream)
    {
        using var g = new Generator(11);
        var logits = Held.Mul(randn(rows, classes, generator: g), 4).requires_grad_();
        var targets = randint(0, classes, [rows], generator: g);
        var loss = FusedCrossEntropy.Compute(logits, targets, weight);
        var gradient = autograd.grad([upstream == 1 ? loss : Held.Mul(loss, upstream)], [logits])[0];

        var exact = logits.detach().to(ScalarType.Float64).requires_grad_();
        var expected = Held.Mul(nn.functional.cross_entropy(exact, targets), weight);
        var expectedGradient = autograd.grad([Held.Mul(expected, upstream)], [exact])[0];
        Assert.Equal(expected.item<double>(), loss.item<float>(), 1e-5);
        Assert.True(gradient.to(ScalarType.Float64).allclose(expectedGradient, rtol: 1e-5, atol: 1e-8),
            $"max diff {(gradient.to(ScalarType.Float64) - expectedGradient).abs().max().item<double>()}");
    }

    [Fact]
    public void Without_gradients_it_is_cross_entropy()
    {
        using var g = new Generator(12);
        var logits = randn(6, 75, generator: g);
        var targets = randint(0, 75, [6], generator: g);
        Assert.Equal(nn.functional.cross_entropy(logits, targets).item<float>(), FusedCrossEntropy.Compute(logits, targets).item<float>());
    }

    [Fact]
    public void A_graph_kept_for_a_second_backward_pass_gives_the_same_gradient_twice()
    {
        using var g = new Generator(13);
        var logits = randn(4, 16, generator: g).requires_grad_();
        var loss = Held.Mul(FusedCrossEntropy.Compute(logits, randint(0, 16, [4], generator: g)), 0.5);
        var first = autograd.grad([loss], [logits], retain_graph: true)[0].clone();
        var second = autograd.grad([loss], [logits])[0];
        Assert.True(first.allclose(second, rtol: 0, atol: 0));
    }

    [Fact]
    public void A_target_outside_the_classes_is_refused()
    {
        var logits = zeros(2, 16).requires_grad_();
        var e = Assert.Throws<ArgumentException>(() => FusedCrossEntropy.Compute(logits, tensor(new long[] { 3, 16 })));
        Assert.Equal("target 16 of row 1 is not a class index in [0, 16)", e.Message);
    }
}
