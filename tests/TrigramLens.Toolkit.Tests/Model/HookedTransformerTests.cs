using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Model;

public class HookedTransformerTests
{
    static Tensor RandomTokens(HookedTransformerConfig cfg, int batch, int pos, int seed = 1)
    {
        using var g = new Generator((ulong)seed);
        return randint(0, cfg.d_vocab, [batch, pos], generator: g);
    }

    [Fact]
    public void Parameters_have_TransformerLens_names_and_shapes()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value.shape));
        // study-spec §2 and ARENA's checkpoint README.
        var expected = new Dictionary<string, string>
        {
            ["embed.W_E"] = "75,32", ["pos_embed.W_pos"] = "50,32",
            ["blocks.0.attn.W_Q"] = "1,32,16", ["blocks.0.attn.W_K"] = "1,32,16", ["blocks.0.attn.W_V"] = "1,32,16",
            ["blocks.0.attn.W_O"] = "1,16,32", ["blocks.0.attn.b_Q"] = "1,16", ["blocks.0.attn.b_K"] = "1,16",
            ["blocks.0.attn.b_V"] = "1,16", ["blocks.0.attn.b_O"] = "32",
            ["blocks.0.attn.mask"] = "50,50", ["blocks.0.attn.IGNORE"] = "",
            ["blocks.0.mlp.W_in"] = "32,20", ["blocks.0.mlp.b_in"] = "20", ["blocks.0.mlp.W_out"] = "20,32", ["blocks.0.mlp.b_out"] = "32",
            ["unembed.W_U"] = "32,75", ["unembed.b_U"] = "75",
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key), shapes.OrderBy(kv => kv.Key));
        Assert.Equal(ScalarType.Bool, model.state_dict()["blocks.0.attn.mask"].dtype);
    }

    [Fact]
    public void Hook_points_fire_in_TransformerLens_order()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        var fired = new List<string>();
        using (model.AddHook(_ => true, (_, hook) => { fired.Add(hook.Name); return null; }))
            model.call(RandomTokens(model.Cfg, 2, 5));

        string[] expected =
        [
            "hook_tokens", "hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre",
            "blocks.0.hook_q_input", "blocks.0.hook_k_input", "blocks.0.hook_v_input",
            "blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_v",
            "blocks.0.attn.hook_attn_scores", "blocks.0.attn.hook_pattern", "blocks.0.attn.hook_z", "blocks.0.attn.hook_result",
            "blocks.0.hook_attn_out", "blocks.0.hook_resid_mid", "blocks.0.mlp.hook_pre", "blocks.0.mlp.hook_post",
            "blocks.0.hook_mlp_out", "blocks.0.hook_resid_post", "unembed.hook_in", "unembed.hook_out",
        ];
        Assert.Equal(expected, fired);
        Assert.Equal(expected.Order(), model.HookPoints.Keys.Order());
    }

    [Fact]
    public void LayerNorm_hooks_exist_only_with_LayerNorm()
    {
        using var ln = new HookedTransformer(TinyModels.Deep());
        using var none = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None));
        Assert.Contains("blocks.1.ln2.hook_scale", ln.HookPoints.Keys);
        Assert.Contains("ln_final.hook_normalized", ln.HookPoints.Keys);
        Assert.DoesNotContain(none.HookPoints.Keys, k => k.Contains("ln"));
    }

    [Fact]
    public void Cached_activations_have_TransformerLens_shapes()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        var (_, cache) = model.RunWithCache(RandomTokens(model.Cfg, 3, 7));
        using (cache)
        {
            Assert.Equal([3, 7], cache["hook_tokens"].shape);
            Assert.Equal([3, 7, 32], cache["hook_embed"].shape);
            Assert.Equal([3, 7, 1, 32], cache["q_input", 0].shape);
            Assert.Equal([3, 7, 1, 16], cache["q", 0].shape);
            Assert.Equal([3, 1, 7, 7], cache["attn_scores", 0].shape);
            Assert.Equal([3, 1, 7, 7], cache["pattern", 0].shape);
            Assert.Equal([3, 7, 1, 16], cache["z", 0].shape);
            Assert.Equal([3, 7, 1, 32], cache["result", 0].shape);
            Assert.Equal([3, 7, 20], cache["pre", 0].shape);
            Assert.Equal([3, 7, 20], cache["post", 0].shape);
            Assert.Equal([3, 7, 32], cache["resid_post", 0].shape);
        }
    }

    [Fact]
    public void Attention_is_causal_and_rows_sum_to_one()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        var (_, cache) = model.RunWithCache(RandomTokens(model.Cfg, 2, 6), "blocks.1.attn.hook_pattern", "blocks.1.attn.hook_attn_scores");
        using (cache)
        {
            var pattern = cache["pattern", 1];
            Assert.True(pattern.sum(-1).allclose(ones(2, 3, 6), atol: 1e-6));
            var future = ones(6, 6).triu(1).to(ScalarType.Bool);
            Assert.Equal(0f, pattern.masked_select(future.expand_as(pattern)).abs().max().item<float>());
            Assert.True(cache["attn_scores", 1].masked_select(future.expand_as(pattern)).isneginf().all().item<bool>());
        }
    }

    public static TheoryData<bool, bool, NormalizationType, ActivationFunction, bool> Architectures => new()
    {
        { false, false, NormalizationType.LN, ActivationFunction.Gelu, false },
        { true, true, NormalizationType.LN, ActivationFunction.Gelu, false },
        { true, false, NormalizationType.None, ActivationFunction.Relu, false },
        { false, true, NormalizationType.None, ActivationFunction.Relu, false },
        { false, false, NormalizationType.LN, ActivationFunction.Relu, true },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Forward_matches_a_plain_per_head_reimplementation(
        bool splitQkv, bool attnResult, NormalizationType norm, ActivationFunction act, bool attnOnly)
    {
        var cfg = TinyModels.Deep(splitQkv, attnResult, norm, act, attnOnly);
        using var model = new HookedTransformer(cfg);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (!name.Contains("W_")) p.normal_(0, 0.3);   // non-zero biases and LayerNorm weights, so they are checked too
        var tokens = RandomTokens(cfg, 4, cfg.n_ctx);

        using var _ = no_grad();
        var actual = model.call(tokens);
        var expected = ReferenceForward.Logits(cfg, model.state_dict(), tokens);
        Assert.Equal([4, cfg.n_ctx, cfg.d_vocab_out], actual.shape);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"max diff {(actual - expected).abs().max().item<float>()}");
    }

    public static TheoryData<string> OneNumericPathConfigs => ["arena", "deep", "deep-split", "deep-attn-only", "deep-heads-of-8"];

    // TransformerLens never changes a number because a hook is attached: analysis runs one numeric path.
    [Theory]
    [MemberData(nameof(OneNumericPathConfigs))]
    public void Forward_RunWithCache_and_RunWithHooks_give_bit_identical_logits(string name)
    {
        var cfg = name switch
        {
            "arena" => TinyModels.Arena(),
            "deep" => TinyModels.Deep(),
            "deep-split" => TinyModels.Deep(splitQkv: true, attnResult: true),
            "deep-heads-of-8" => TinyModels.Deep(dHead: 8, norm: NormalizationType.None),
            _ => TinyModels.Deep(attnOnly: true, norm: NormalizationType.None),
        };
        using var model = new HookedTransformer(cfg);
        using var g = new Generator(2);
        var tokens = randint(0, cfg.d_vocab, [5, cfg.n_ctx], generator: g);
        using var _ = no_grad();
        var forward = model.call(tokens);
        var (cached, cache) = model.RunWithCache(tokens);
        using (cache) Assert.True(forward.Equals(cached), "RunWithCache");
        foreach (string point in model.HookPoints.Keys)
            Assert.True(forward.Equals(model.RunWithHooks(tokens, (point, (_, _) => null))), $"a no-op hook on {point}");
        Assert.True(forward.Equals(model.call(tokens)), "Forward again, after the hooks were removed");
    }

    [Fact]
    public void Hook_only_switches_do_not_change_the_output()
    {
        using var plain = new HookedTransformer(TinyModels.Deep(splitQkv: false, attnResult: false));
        using var hooked = new HookedTransformer(TinyModels.Deep(splitQkv: true, attnResult: true));
        var tokens = RandomTokens(plain.Cfg, 3, 9);
        using var _ = no_grad();
        Assert.True(plain.call(tokens).allclose(hooked.call(tokens), atol: 1e-5));
    }

    [Fact]
    public void Init_is_TransformerLens_gpt2_init_and_seeded_init_is_reproducible()
    {
        using var a = new HookedTransformer(TinyModels.Arena(seed: 40));
        using var b = new HookedTransformer(TinyModels.Arena(seed: 40));
        using var c = new HookedTransformer(TinyModels.Arena(seed: 41));
        var sa = a.state_dict();
        foreach (var (name, t) in sa)
        {
            Assert.True(t.Equals(b.state_dict()[name]), name);
            if (name.Contains("W_"))
            {
                Assert.False(t.Equals(c.state_dict()[name]), name);
                double std = t.std().item<float>();
                Assert.InRange(std, 0.8 / Math.Sqrt(32) * 0.85, 0.8 / Math.Sqrt(32) * 1.15);
            }
            else if (name.StartsWith("blocks.0.attn.b_") || name.Contains(".b_"))
            {
                Assert.Equal(0f, t.abs().max().item<float>());
            }
        }
    }

    [Fact]
    public void Model_built_inside_a_dispose_scope_outlives_it()
    {
        HookedTransformer model;
        using (NewDisposeScope()) model = new HookedTransformer(TinyModels.Deep());
        using (model)
        using (no_grad())
            Assert.Equal([1, 3, 13], model.call(tensor(new long[] { 1, 2, 3 })).shape);
    }

    [Theory]
    [InlineData(new long[] { 0, 11 }, "token values must lie in [0, 11)")]
    [InlineData(new long[] { -1, 2 }, "token values must lie in [0, 11)")]
    public void Out_of_range_tokens_are_a_clear_error(long[] tokens, string message)
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        var e = Assert.Throws<ArgumentException>(() => model.call(tensor(tokens)));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Too_long_and_non_integer_inputs_are_clear_errors()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        Assert.Contains("exceeds n_ctx", Assert.Throws<ArgumentException>(() => model.call(zeros(1, 10, ScalarType.Int64))).Message);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => model.call(zeros(1, 3))).Message);
    }

    [Fact]
    public void Stacked_weights_follow_TransformerLens_shapes()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        Assert.Equal([2, 3, 12, 4], model.W_Q.shape);
        Assert.Equal([2, 3, 4, 12], model.W_O.shape);
        Assert.Equal([2, 12, 16], model.W_in.shape);
        Assert.True(model.W_V[1].Equals(model.blocks[1].attn.W_V));
    }
}
