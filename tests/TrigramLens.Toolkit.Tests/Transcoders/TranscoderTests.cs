using TorchSharp;
using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Runtime;
using TrigramLens.Testing;
using TrigramLens.Transcoders;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Transcoders;

public sealed class TranscoderTests
{
    static TranscoderConfig Config(TranscoderActivation activation, bool skip = false, int? k = null) =>
        new(4, 9, 3, activation, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out", k, skip);

    /// <summary>The transcoder's definition written as loops over plain arrays.</summary>
    static float[,] Loop(Transcoder t, float[,] x)
    {
        var c = t.Cfg;
        float[] wEnc = t.W_enc.detach().data<float>().ToArray(), bEnc = t.b_enc.detach().data<float>().ToArray();
        float[] wDec = t.W_dec.detach().data<float>().ToArray(), bDec = t.b_dec.detach().data<float>().ToArray();
        float[]? wSkip = t.W_skip?.detach().data<float>().ToArray(), theta = t.threshold?.detach().data<float>().ToArray();
        int n = x.GetLength(0);
        var y = new float[n, c.d_out];
        for (int r = 0; r < n; r++)
        {
            var pre = new double[c.d_sae];
            for (int j = 0; j < c.d_sae; j++)
            {
                pre[j] = bEnc[j];
                for (int i = 0; i < c.d_in; i++) pre[j] += x[r, i] * wEnc[i * c.d_sae + j];
            }
            var f = new double[c.d_sae];
            if (c.activation == TranscoderActivation.TopK)
                foreach (int j in Enumerable.Range(0, c.d_sae).OrderByDescending(j => pre[j]).Take(c.k!.Value)) f[j] = Math.Max(0, pre[j]);
            else
                for (int j = 0; j < c.d_sae; j++)
                    f[j] = c.activation == TranscoderActivation.Relu ? Math.Max(0, pre[j]) : pre[j] > theta![j] && pre[j] > 0 ? pre[j] : 0;
            for (int o = 0; o < c.d_out; o++)
            {
                double v = bDec[o];
                for (int j = 0; j < c.d_sae; j++) v += f[j] * wDec[j * c.d_out + o];
                if (wSkip is not null) for (int i = 0; i < c.d_in; i++) v += x[r, i] * wSkip[o * c.d_in + i];
                y[r, o] = (float)v;
            }
        }
        return y;
    }

    [Theory]
    [InlineData(TranscoderActivation.Relu, false, null)]
    [InlineData(TranscoderActivation.Relu, true, null)]
    [InlineData(TranscoderActivation.TopK, false, 1)]
    [InlineData(TranscoderActivation.TopK, true, 3)]
    [InlineData(TranscoderActivation.JumpRelu, false, null)]
    [InlineData(TranscoderActivation.JumpRelu, true, null)]
    public void Forward_equals_a_plain_loop_over_the_definition(TranscoderActivation activation, bool skip, int? k)
    {
        using var t = SyntheticTranscoders.Random(Config(activation, skip, k), 3);
        using var g = new Generator(4);
        var x = randn(2, 5, 4, generator: g);                       // [batch, pos, d_in]: leading dimensions pass through
        var y = t.forward(x).detach();
        Assert.Equal([2L, 5, 3], y.shape);
        var xs = new float[10, 4];
        var flat = x.data<float>().ToArray();
        for (int i = 0; i < 40; i++) xs[i / 4, i % 4] = flat[i];
        var expected = Loop(t, xs);
        var actual = y.reshape(10, 3).data<float>().ToArray();
        for (int r = 0; r < 10; r++)
            for (int o = 0; o < 3; o++) Assert.Equal(expected[r, o], actual[r * 3 + o], 4);
        if (k is int kk)
        {
            using var kScalar = kk.ToScalar();
            Assert.True(t.Encode(x).ne(HeldScalars.Zero).sum(-1).le(kScalar).all().item<bool>());
        }
    }

    [Fact]
    public void TopK_keeps_the_k_largest_and_zeroes_negative_ones()
    {
        var pre = tensor(new float[] { 0.5f, -1, 3, 2, -0.2f, -3, -1, -2 }).view(2, 4);
        var f = Transcoder.TopK(pre, 2).data<float>().ToArray();
        Assert.Equal([0, 0, 3, 2, 0, 0, 0, 0], f);   // row 2's largest two are negative: ReLU'd to 0
    }

    [Fact]
    public void Config_names_saelens_architectures_and_refuses_bad_shapes()
    {
        Assert.Equal("transcoder", Config(TranscoderActivation.Relu).architecture);
        Assert.Equal("skip_transcoder", Config(TranscoderActivation.Relu, true).architecture);
        Assert.Equal("jumprelu_transcoder", Config(TranscoderActivation.JumpRelu).architecture);
        Assert.Equal("jumprelu_skip_transcoder", Config(TranscoderActivation.JumpRelu, true).architecture);
        Assert.Equal("topk_transcoder", Config(TranscoderActivation.TopK, k: 2).architecture);
        foreach (var name in TranscoderConfig.Architectures)
        {
            var (activation, skip) = TranscoderConfig.ParseArchitecture(name)!.Value;
            Assert.Equal(name, Config(activation, skip, activation == TranscoderActivation.TopK ? 1 : null).architecture);
        }
        Assert.Contains("k", Assert.Throws<ArgumentException>(() => Config(TranscoderActivation.TopK)).Message);
        Assert.Contains("k", Assert.Throws<ArgumentException>(() => Config(TranscoderActivation.TopK, k: 10)).Message);
        Assert.Contains("TopK", Assert.Throws<ArgumentException>(() => Config(TranscoderActivation.Relu, k: 2)).Message);
        Assert.Throws<ArgumentException>(() => new TranscoderConfig(0, 9, 3, TranscoderActivation.Relu, "a", "b"));
        using var t = new Transcoder(Config(TranscoderActivation.Relu));
        Assert.Contains("width is 4", Assert.Throws<ArgumentException>(() => t.forward(zeros(2, 5))).Message);
    }

    [Fact]
    public void Splicing_replaces_mlp_out_by_the_reconstruction_of_resid_mid_and_changes_nothing_else()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        var cfg = new TranscoderConfig(32, 16, 32, TranscoderActivation.TopK, "blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out", 3);
        using var t = SyntheticTranscoders.Random(cfg, 5);
        var tokens = tensor(new long[] { 1, 5, 9, 2, 6, 5, 3, 5 }).view(2, 4);
        using var _ = no_grad();
        var spliced = TranscoderSplice.Run(model, t, tokens);

        // The same thing by hand: resid_mid from a clean run, its reconstruction added back and unembedded.
        var (clean, cache) = model.RunWithCache(tokens, "blocks.0.hook_resid_mid");
        using (cache)
        {
            var residMid = cache["blocks.0.hook_resid_mid"];
            var expected = model.unembed.call(Held.Add(residMid, t.forward(residMid)));
            Assert.True(spliced.allclose(expected, 1e-5, 1e-5));
            Assert.False(spliced.allclose(clean, 1e-3, 1e-3));
        }
        Assert.True(model.call(tokens).allclose(clean), "the splice must come off with its handle");
        Assert.All(model.HookPoints.Values, h => Assert.False(h.HasHooks));
    }

    [Fact]
    public void Splicing_refuses_an_input_hook_that_fires_after_the_output_hook()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        var cfg = new TranscoderConfig(32, 8, 32, TranscoderActivation.Relu, "blocks.0.hook_resid_post", "blocks.0.hook_mlp_out");
        using var t = new Transcoder(cfg);
        var e = Assert.Throws<InvalidOperationException>(() => TranscoderSplice.Run(model, t, tensor(new long[] { 1, 2, 3 })));
        Assert.Contains("input hook must come first", e.Message);
    }

    [Fact]
    public void A_copy_has_the_same_weights_and_none_of_their_storage()
    {
        using var t = SyntheticTranscoders.Random(Config(TranscoderActivation.JumpRelu, skip: true), 4);
        using var copy = t.Copy();
        Assert.Equal(t.Cfg, copy.Cfg);
        foreach (var ((name, original), (_, copied)) in t.NamedParameters().Zip(copy.NamedParameters()))
            Assert.True(original.allclose(copied, 0, 0), name);
        using (no_grad()) t.W_enc.zero_();
        Assert.NotEqual(0f, copy.W_enc.abs().sum().item<float>());
    }
}
