using TorchSharp;
using TrigramLens.Transcoders;
using TrigramLens.Runtime;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Transcoders;

/// <summary>The closed-form loss and gradient of <see cref="TranscoderLoss"/> against autograd (and, for the JumpReLU
/// threshold, whose straight-through gradient autograd cannot form, against a plain loop over the definition).</summary>
public sealed class TranscoderLossTests
{
    const int DIn = 6, DOut = 5, Width = 12, N = 40;

    static Transcoder Random(TranscoderActivation activation, bool skip, Generator g, int? k = null)
    {
        var t = new Transcoder(new TranscoderConfig(DIn, Width, DOut, activation, "in", "out", k, skip));
        using var _ = no_grad();
        foreach (var (_, p) in t.NamedParameters()) p.copy_(Held.Mul(randn(p.shape, generator: g), 0.5));
        t.threshold?.copy_(Held.Add(Held.Mul(rand(Width, generator: g), 0.3), 0.05));
        return t;
    }

    /// <summary>The same loss written with autograd: returns the loss and every parameter's gradient.</summary>
    static (double loss, Tensor[] grads) Autograd(Transcoder t, Tensor x, Tensor y, LossTerms terms, Tensor? logThreshold = null)
    {
        var ps = TranscoderLoss.Parameters(t, logThreshold is null ? null : new TorchSharp.Modules.Parameter(logThreshold))
            .Select(p => p.detach().clone().requires_grad_(true)).ToArray();
        var (wEnc, bEnc, wDec, bDec) = (ps[0], ps[1], ps[2], ps[3]);
        var wSkip = t.W_skip is null ? null : ps[4];
        var pre = Held.Add(x.matmul(wEnc), bEnc);
        Tensor f = t.Cfg.activation switch
        {
            TranscoderActivation.TopK => Transcoder.TopK(pre, t.Cfg.k!.Value),
            TranscoderActivation.Relu => pre.relu(),
            _ => pre * pre.detach().gt(t.threshold!.detach()).logical_and(pre.detach().gt(HeldScalars.Zero)).to(ScalarType.Float32),
        };
        var yhat = Held.Add(f.matmul(wDec), bDec);
        if (wSkip is not null) yhat = Held.Add(yhat, x.matmul(wSkip.t()));
        var loss = Held.Div(Held.Square(yhat - y).sum(), terms.BatchPositions * terms.Variance);
        if (t.Cfg.activation == TranscoderActivation.Relu && terms.L1 > 0)
            loss = Held.Add(loss, Held.Mul((f * Held.Square(wDec).sum(1).sqrt()).sum(), terms.L1 / terms.BatchPositions));
        if (terms.Dead is not null && terms.AuxK > 0)
        {
            var deadPre = pre.index_select(1, terms.Dead);
            var auxF = Transcoder.TopK(deadPre, terms.AuxK);
            var ehat = auxF.matmul(wDec.index_select(0, terms.Dead));
            var e = (y - yhat).detach();
            loss = Held.Add(loss, Held.Mul(Held.Square(ehat - e).sum(), terms.AuxCoefficient / (terms.BatchPositions * terms.Variance)));
        }
        var grads = autograd.grad([loss], ps.Take(t.W_skip is null ? 4 : 5).ToList(), allow_unused: true);
        return (loss.item<float>(), grads.Select((g, i) => g is null || g.IsInvalid ? zeros_like(ps[i]) : g).ToArray());
    }

    static void AssertClose(Tensor expected, Tensor actual, string what, double tolerance = 2e-5)
    {
        double scale = Math.Max(1e-3, expected.abs().max().item<float>());
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= tolerance * scale, $"{what}: max |difference| {diff} against scale {scale}");
    }

    [Theory]
    [InlineData(TranscoderActivation.TopK, false, 0.0)]
    [InlineData(TranscoderActivation.TopK, true, 0.0)]
    [InlineData(TranscoderActivation.Relu, false, 0.0)]
    [InlineData(TranscoderActivation.Relu, true, 0.3)]
    [InlineData(TranscoderActivation.Relu, false, 1.7)]
    public void Closed_form_gradient_equals_autograd(TranscoderActivation activation, bool skip, double l1)
    {
        using var g = new Generator(11);
        using var t = Random(activation, skip, g, activation == TranscoderActivation.TopK ? 3 : null);
        var x = randn(N, DIn, generator: g);
        var y = randn(N, DOut, generator: g);
        var terms = new LossTerms(BatchPositions: 3 * N, Variance: 1.7, L1: l1);
        using var closed = TranscoderLoss.Compute(t, null, x, y, terms);
        var (loss, grads) = Autograd(t, x, y, terms);
        Assert.Equal(loss, closed.Loss(terms), 4);
        Assert.Equal(grads.Length, closed.Gradients.Length);
        string[] names = ["W_enc", "b_enc", "W_dec", "b_dec", "W_skip"];
        for (int i = 0; i < grads.Length; i++) AssertClose(grads[i], closed.Gradients[i], names[i]);
        Assert.True(closed.Gradients[0].abs().sum().item<float>() > 0, "the test must exercise the encoder gradient");
    }

    [Fact]
    public void AuxK_gradient_equals_autograd_and_reaches_only_dead_latents_through_the_aux_term()
    {
        using var g = new Generator(12);
        using var t = Random(TranscoderActivation.TopK, false, g, k: 2);
        var x = randn(N, DIn, generator: g);
        var y = randn(N, DOut, generator: g);
        var dead = tensor(new long[] { 1, 4, 5, 9, 10 });
        var withAux = new LossTerms(N, 1.3, AuxCoefficient: 0.5, AuxK: 3, Dead: dead);
        using var closed = TranscoderLoss.Compute(t, null, x, y, withAux);
        var (loss, grads) = Autograd(t, x, y, withAux);
        Assert.Equal(loss, closed.Loss(withAux), 4);
        for (int i = 0; i < grads.Length; i++) AssertClose(grads[i], closed.Gradients[i], $"parameter {i}");
        Assert.True(closed.Aux > 0);

        // Without the aux term, the decoder rows of latents that neither the top-k nor AuxK picked get no gradient; the aux
        // term's extra gradient lies on dead rows only.
        using var plain = TranscoderLoss.Compute(t, null, x, y, new LossTerms(N, 1.3));
        var extra = (closed.Gradients[2] - plain.Gradients[2]).abs().sum(1);      // [d_sae]
        using var no = false.ToScalar();
        var live = ones(Width, ScalarType.Bool).index_fill_(0, dead, no);
        Assert.Equal(0, extra.masked_select(live).sum().item<float>(), 6);
        Assert.True(extra.index_select(0, dead).sum().item<float>() > 0);
    }

    [Fact]
    public void JumpRelu_gradients_equal_autograd_and_the_threshold_gradient_equals_a_loop_over_the_definition()
    {
        using var g = new Generator(13);
        using var t = Random(TranscoderActivation.JumpRelu, true, g);
        var logTheta = t.threshold!.detach().log();
        var x = randn(N, DIn, generator: g);
        var y = randn(N, DOut, generator: g);
        const double bandwidth = 0.4, l0 = 0.05;
        var terms = new LossTerms(N, 2.0, L0: l0, Bandwidth: bandwidth);
        using var closed = TranscoderLoss.Compute(t, new TorchSharp.Modules.Parameter(logTheta.clone()), x, y, terms);
        var (mseLoss, grads) = Autograd(t, x, y, terms, logTheta);
        for (int i = 0; i < grads.Length; i++) AssertClose(grads[i], closed.Gradients[i], $"parameter {i}");

        // Straight-through threshold gradient, SAELens's definition, one loop per (position, feature).
        float[] pre = Held.Add(x.matmul(t.W_enc), t.b_enc).detach().data<float>().ToArray();
        float[] theta = t.threshold!.detach().data<float>().ToArray();
        var yhat = t.forward(x).detach();
        float[] gf = Held.Mul(yhat - y, 2.0 / (N * 2.0)).matmul(t.W_dec.detach().t()).data<float>().ToArray();
        var expected = new double[Width];
        double l0Loss = 0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < Width; i++)
            {
                double p = pre[n * Width + i], th = theta[i];
                bool inWindow = Math.Abs((p - th) / bandwidth) < 0.5;
                if (inWindow) expected[i] += gf[n * Width + i] * -(th / bandwidth) + l0 / N * -(1 / bandwidth);
                if (p > th && p > 0) l0Loss += l0 / N;
            }
        var dLogTheta = closed.Gradients[^1].data<float>().ToArray();
        for (int i = 0; i < Width; i++) Assert.Equal(expected[i] * theta[i], dLogTheta[i], 5);
        Assert.Equal(mseLoss + l0Loss, closed.Loss(terms), 4);
        Assert.Contains(expected, e => e != 0);
    }
}
