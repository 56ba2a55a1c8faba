using TrigramLens.Kernels;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Kernels;

public class CausalAttentionKernelTests
{
    /// <summary>Plain causal attention in float64 on the fused layout: [batch, pos, 3 · heads · d] → [batch, pos, heads · d].</summary>
    static Tensor Reference(Tensor qkv, int heads)
    {
        long batch = qkv.shape[0], pos = qkv.shape[1], d = qkv.shape[2] / (3 * heads);
        var parts = qkv.view(batch, pos, 3, heads, d).permute(2, 0, 3, 1, 4);               // [3, batch, head, pos, d]
        var scores = matmul(parts[0], parts[1].transpose(-1, -2)) / Math.Sqrt(d);
        var masked = scores.masked_fill(ones(pos, pos, ScalarType.Bool).triu(1), double.NegativeInfinity);
        var z = matmul(masked.softmax(-1), parts[2]);                                        // [batch, head, pos, d]
        return z.transpose(1, 2).reshape(batch, pos, heads * d);
    }

    // Several heads, a batch, one to five blocks of 8 keys (more than four exercises the second group of Scores).
    [Theory]
    [InlineData(1, 8)]
    [InlineData(7, 16)]
    [InlineData(9, 8)]
    [InlineData(25, 16)]
    [InlineData(33, 8)]
    [InlineData(49, 24)]
    public void Output_and_gradient_are_plain_causal_attentions(int pos, int d)
    {
        const int batch = 2, heads = 3;
        using var g = new Generator(17);
        var qkv = (randn(batch, pos, 3 * heads * d, generator: g) * 1.5).requires_grad_();
        var upstream = randn(batch, pos, heads * d, generator: g);
        var z = CausalAttentionKernel.Compute(qkv, heads);
        var gradient = autograd.grad([z], [qkv], [upstream])[0];

        var exact = qkv.detach().to(ScalarType.Float64).requires_grad_();
        var expected = Reference(exact, heads);
        var expectedGradient = autograd.grad([expected], [exact], [upstream.to(ScalarType.Float64)])[0];
        Assert.True(z.to(ScalarType.Float64).allclose(expected, rtol: 1e-5, atol: 1e-6),
            $"max diff {(z.to(ScalarType.Float64) - expected).abs().max().item<double>()}");
        Assert.True(gradient.to(ScalarType.Float64).allclose(expectedGradient, rtol: 1e-4, atol: 1e-5),
            $"max diff {(gradient.to(ScalarType.Float64) - expectedGradient).abs().max().item<double>()}");
    }

    [Theory]
    [InlineData(49, 16, true)]
    [InlineData(49, 4, false)]                                           // d_head not a multiple of 8
    [InlineData(CausalAttentionKernel.MaxPositions + 1, 16, false)]      // longer than measured
    public void It_takes_the_shapes_it_was_written_and_measured_for(int pos, int d, bool supported)
    {
        Assert.Equal(supported, CausalAttentionKernel.Supports(zeros(2, pos, 32), heads: 1, d));
        Assert.False(CausalAttentionKernel.Supports(zeros(2, pos, 32, ScalarType.Float64), heads: 1, d));
    }
}
