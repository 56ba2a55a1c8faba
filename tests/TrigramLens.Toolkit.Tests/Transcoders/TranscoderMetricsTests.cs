using TorchSharp;
using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Training;
using TrigramLens.Transcoders;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Transcoders;

public sealed class TranscoderMetricsTests
{
    [Fact]
    public void Fvu_l0_dead_dense_and_density_equal_a_plain_recomputation()
    {
        var cfg = new TranscoderConfig(5, 7, 4, TranscoderActivation.JumpRelu, "in", "out");
        using var t = SyntheticTranscoders.Random(cfg, 21);
        using (no_grad()) t.threshold!.copy_(tensor(new float[] { 0.1f, 5, 0.3f, 0.2f, 9, 0.05f, 0.4f }));   // features 1 and 4 never fire
        using var g = new Generator(22);
        var x = randn(50, 5, generator: g);
        var y = Held.Add(Held.Mul(randn(50, 4, generator: g), 2), 1);
        var m = TranscoderMetrics.Measure(t, x, y, chunk: 7, denseThreshold: 0.3);

        var f = t.Encode(x).detach();
        var yhat = t.forward(x).detach();
        double[] yv = y.data<float>().Select(v => (double)v).ToArray(), hv = yhat.data<float>().Select(v => (double)v).ToArray();
        var mean = Enumerable.Range(0, 4).Select(o => Enumerable.Range(0, 50).Average(r => yv[r * 4 + o])).ToArray();
        double sse = 0, sst = 0;
        for (int r = 0; r < 50; r++)
            for (int o = 0; o < 4; o++)
            {
                sse += Math.Pow(yv[r * 4 + o] - hv[r * 4 + o], 2);
                sst += Math.Pow(yv[r * 4 + o] - mean[o], 2);
            }
        float[] fv = f.data<float>().ToArray();
        var density = Enumerable.Range(0, 7).Select(j => Enumerable.Range(0, 50).Count(r => fv[r * 7 + j] != 0) / 50.0).ToArray();
        Assert.Equal(sse / sst, m.Fvu, 5);
        Assert.Equal(sse / 50, m.Mse, 4);
        Assert.Equal(fv.Count(v => v != 0) / 50.0, m.L0, 10);
        Assert.Equal(density.Count(d => d == 0), m.Dead);
        Assert.Equal(density.Count(d => d > 0.3), m.Dense);
        Assert.True(m.Dead >= 2);
        for (int j = 0; j < 7; j++) Assert.Equal(density[j], m.Density[j], 6);
    }

    [Fact]
    public void Token_pair_mass_equals_a_loop_over_positions()
    {
        using var g = new Generator(23);
        var tokens = randint(0, 4, [6, 5], generator: g);
        var acts = Held.Add(rand(6, 5, 3, generator: g), -0.5).relu();                   // about half zero
        var mass = new TokenPairMass(3);
        mass.Add(tokens.narrow(0, 0, 4), acts.narrow(0, 0, 4));                  // in two chunks
        mass.Add(tokens.narrow(0, 4, 2), acts.narrow(0, 4, 2));
        long[] tk = tokens.data<long>().ToArray();
        float[] av = acts.data<float>().ToArray();
        for (int f = 0; f < 3; f++)
        {
            var expected = new Dictionary<(int, int), double>();
            double total = 0;
            for (int r = 0; r < 6; r++)
                for (int p = 0; p < 5; p++)
                {
                    double v = av[(r * 5 + p) * 3 + f];
                    if (v == 0) continue;
                    var key = (p == 0 ? -1 : (int)tk[r * 5 + p - 1], (int)tk[r * 5 + p]);
                    expected[key] = expected.GetValueOrDefault(key) + v;
                    total += v;
                }
            var actual = mass.For(f);
            Assert.Equal(total, actual.Total, 5);
            Assert.Equal(expected.Count, actual.Pairs.Count);
            foreach (var p in actual.Pairs) Assert.Equal(expected[(p.Previous, p.Current)], p.Mass, 5);
            Assert.True(actual.Pairs.Zip(actual.Pairs.Skip(1)).All(ab => ab.First.Mass >= ab.Second.Mass), "heaviest first");
            Assert.Equal(expected.Values.Max() / total, actual.TopShare, 5);
        }
    }

    /// <summary>A ReLU transcoder holding the MLP's own weights is the MLP: splicing it in must change nothing.</summary>
    static Transcoder MlpAsTranscoder(HookedTransformer model)
    {
        var cfg = new TranscoderConfig(32, 20, 32, TranscoderActivation.Relu, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out");
        var t = new Transcoder(cfg);
        using var _ = no_grad();
        t.W_enc.copy_(model.W_in[0]);
        t.b_enc.copy_(model.b_in[0]);
        t.W_dec.copy_(model.W_out[0]);
        t.b_dec.copy_(model.b_out[0]);
        return t;
    }

    [Fact]
    public void Spliced_loss_of_the_mlp_itself_recovers_everything_and_ablations_equal_hooked_runs()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        using var g = new Generator(24);
        var tokens = randint(0, 75, [12, 50], generator: g);
        using var t = MlpAsTranscoder(model);
        var loss = SplicedLoss.Measure(model, t, tokens, batchRows: 5);
        using var _ = no_grad();
        double clean = NextTokenLoss.Compute(model, tokens).item<float>();
        Assert.Equal(clean, loss.Clean, 4);
        Assert.Equal(clean, loss.Spliced, 4);
        Assert.Equal(1, loss.RecoveredVsMeanAblation, 3);
        using (model.Hooks(("blocks.0.hook_mlp_out", Ablation.Zero))) Assert.Equal(NextTokenLoss.Compute(model, tokens).item<float>(), loss.ZeroAblated, 4);
        var (__, cache) = model.RunWithCache(tokens, "blocks.0.hook_mlp_out");
        using (cache)
        {
            var mean = cache["blocks.0.hook_mlp_out"][.., ..^1].mean([0, 1]);
            Assert.Equal(mean.data<float>().ToArray(), loss.MeanOutput, new FloatTolerance(1e-5f));
            using (model.Hooks(("blocks.0.hook_mlp_out", Ablation.Mean(mean))))
                Assert.Equal(NextTokenLoss.Compute(model, tokens).item<float>(), loss.MeanAblated, 4);
        }
        var logits = TranscoderSplice.Run(model, t, tokens);
        Assert.True(logits.allclose(model.call(tokens), 1e-4, 1e-4));
    }

    [Fact]
    public void Logit_effects_de_embedding_and_pull_back_are_the_weight_products()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        var cfg = new TranscoderConfig(32, 6, 32, TranscoderActivation.TopK, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out", 2);
        using var t = SyntheticTranscoders.Random(cfg, 25);
        using var _ = no_grad();
        Assert.True(FeatureDirections.LogitEffects(t, model).allclose(t.W_dec.matmul(model.W_U)));
        var deEmbedding = FeatureDirections.DeEmbedding(t, model);                                // [d_vocab, d_sae]
        Assert.Equal([75L, 6], deEmbedding.shape);
        Assert.Equal(model.W_E[17].dot(t.W_enc[.., 3]).item<float>(), deEmbedding[17, 3].item<float>(), 4);
        var pullBack = FeatureDirections.AttentionPullBack(t, model);
        var byHand = model.W_E[17].matmul(model.W_V[0, 0]).matmul(model.W_O[0, 0]).dot(t.W_enc[.., 3]);
        Assert.Equal(byHand.item<float>(), pullBack[17, 3].item<float>(), 4);
        var top = FeatureDirections.Top(tensor(new float[] { 0.5f, 3, -1, 2 }), 2);
        Assert.Equal([(1, 3f), (3, 2f)], top);
        Assert.Equal([(2, -1f)], FeatureDirections.Top(tensor(new float[] { 0.5f, 3, -1, 2 }), 1, largest: false));
    }

    sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
