using System.Runtime.Intrinsics;
using TrigramLens.Kernels;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Kernels;

public class CausalAttentionKernelTests
{
    /// <summary>Plain causal attention in float64 on the fused layout: [batch, pos, 3 · heads · d] → [batch, pos, heads · d].</summary>
    static Tensor Reference(Tensor qkv, int heads)
    {
        long batch = qkv.shape[0], pos = qkv.shape[1], d = qkv.shape[2] / (3 * heads);
        var parts = qkv.view(batch, pos, 3, heads, d).permute(2, 0, 3, 1, 4);               // [3, batch, head, pos, d]
        var scores = Held.Div(matmul(parts[0], parts[1].transpose(-1, -2)), Math.Sqrt(d));
        var masked = Held.Fill(scores, ones(pos, pos, ScalarType.Bool).triu(1), double.NegativeInfinity);
        var z = matmul(masked.softmax(-1), parts[2]);                                        // [batch, head, pos, d]
        return z.transpose(1, 2).reshape(batch, pos, heads * d);
    }

    // Several heads, a batch, one to five blocks of 8 keys (more than four exercises the second group of Scores), up to
    // the longest sequence the kernel takes.
    [Theory]
    [InlineData(1, 8)]
    [InlineData(CausalAttentionKernel.MaxPositions, 8)]
    [InlineData(7, 16)]
    [InlineData(9, 8)]
    [InlineData(25, 16)]
    [InlineData(33, 8)]
    [InlineData(49, 24)]
    public void Output_and_gradient_are_plain_causal_attentions(int pos, int d)
    {
        const int batch = 2, heads = 3;
        using var g = new Generator(17);
        var qkv = Held.Mul(randn(batch, pos, 3 * heads * d, generator: g), 1.5).requires_grad_();
        if (!Vector256.IsHardwareAccelerated)
        {
            // Not every machine has the vectors the kernel is written in: there it must refuse, never compute garbage.
            Assert.Throws<NotSupportedException>(() => CausalAttentionKernel.Compute(qkv, heads));
            return;
        }
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

    // NaN or infinity in a sequence must come out where causal attention puts it: in the positions that read the bad
    // entry, not in earlier ones, and never as a quiet number. (A matmul over the masked pattern also spreads a non-finite
    // value to earlier positions, as 0 × ∞ = NaN; the kernel never reads keys or values after the query.)
    [Theory]
    [InlineData(0, float.NaN)]                  // in a query
    [InlineData(1, float.PositiveInfinity)]     // in a key
    [InlineData(2, float.NegativeInfinity)]     // in a value
    public void Non_finite_inputs_reach_exactly_the_positions_that_read_them(int part, float value)
    {
        const int pos = 12, heads = 2, d = 8, bad = 4;
        using var g = new Generator(5);
        var qkv = randn(1, pos, 3 * heads * d, generator: g);
        qkv[0, bad, part * heads * d + 3] = tensor(value);
        if (!Vector256.IsHardwareAccelerated)
        {
            Assert.Throws<NotSupportedException>(() => CausalAttentionKernel.Compute(qkv, heads));
            return;
        }
        var z = CausalAttentionKernel.Compute(qkv, heads).to(ScalarType.Float64);
        var expected = CausalSum(qkv.to(ScalarType.Float64), heads);
        Assert.True(z.isfinite().Equals(expected.isfinite()), "non-finite outputs in different places");
        Assert.True(z[0, ..bad].isfinite().all().item<bool>(), "an earlier position read the bad entry");
        Assert.False(z[0, bad..].isfinite().all().item<bool>(), "the bad entry vanished");
        var finite = expected.isfinite();
        Assert.True(z.masked_select(finite).allclose(expected.masked_select(finite), rtol: 1e-5, atol: 1e-6));
    }

    /// <summary>Causal attention with the sum over keys written out as keys ≤ query only, so that nothing after a query
    /// reaches it, not even as 0 × ∞.</summary>
    static Tensor CausalSum(Tensor qkv, int heads)
    {
        long pos = qkv.shape[1], d = qkv.shape[2] / (3 * heads);
        var parts = qkv.view(1, pos, 3, heads, d).permute(2, 0, 3, 1, 4);                     // [3, 1, head, pos, d]
        var causal = ones(pos, pos, ScalarType.Bool).tril();
        var scores = Held.Div(matmul(parts[0], parts[1].transpose(-1, -2)), Math.Sqrt(d));
        var pattern = Held.Fill(scores, causal.logical_not(), double.NegativeInfinity).softmax(-1);   // [1, head, q, k]
        var terms = pattern.unsqueeze(-1) * parts[2].unsqueeze(-3);                          // [1, head, q, k, d]
        var z = where(causal.unsqueeze(-1), terms, zeros_like(terms)).sum(-2);               // [1, head, q, d]
        return z.transpose(1, 2).reshape(1, pos, heads * d);
    }

    // The entry point checks for itself what Supports tells the model, and says why.
    [Fact]
    public void Inputs_the_kernel_was_not_written_for_are_refused_with_the_reason()
    {
        long[] shape = [2, 12, 48];
        const int heads = 3;
        if (!Vector256.IsHardwareAccelerated) return;   // refused for the hardware first: the test above
        Assert.Contains("not 3 × 5 heads", Assert.Throws<ArgumentException>(() => CausalAttentionKernel.Compute(zeros(shape), 5)).Message);
        Assert.Contains("d_head 4", Assert.Throws<ArgumentException>(() => CausalAttentionKernel.Compute(zeros(2, 12, 3 * heads * 4), heads)).Message);
        Assert.Contains("1 to 128", Assert.Throws<ArgumentException>(() => CausalAttentionKernel.Compute(zeros(1, 129, 3 * 8), 1)).Message);
        Assert.Contains("float32", Assert.Throws<ArgumentException>(() => CausalAttentionKernel.Compute(zeros(new long[] { 1, 4, 24 }, ScalarType.Float64), 1)).Message);
        Assert.Contains("[batch, pos", Assert.Throws<ArgumentException>(() => CausalAttentionKernel.Compute(zeros(4, 24), 1)).Message);
        Assert.Contains("heads", Assert.Throws<ArgumentException>(() => CausalAttentionKernel.Compute(zeros(shape), 0)).Message);
        Assert.Equal([2L, 12, 16 * 1], CausalAttentionKernel.Compute(zeros(2, 12, 48), 1).shape);   // and takes what it was written for
    }
}
