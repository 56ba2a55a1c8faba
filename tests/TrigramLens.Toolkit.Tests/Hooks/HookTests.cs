using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Hooks;

public class HookTests
{
    // A fresh tensor per use: a static one would belong to whichever dispose scope first touched it.
    static Tensor Tokens => tensor(new long[] { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7 }).view(2, 7);

    static HookedTransformer Model() => new(TinyModels.Deep(splitQkv: true, attnResult: true));

    [Fact]
    public void Cache_is_indexed_by_full_name_and_by_short_name_and_layer()
    {
        using var model = Model();
        var (_, cache) = model.RunWithCache(Tokens);
        using (cache)
        {
            Assert.Same(cache["blocks.1.attn.hook_pattern"], cache["pattern", 1]);
            Assert.Same(cache["blocks.0.hook_resid_mid"], cache["resid_mid", 0]);
            Assert.Same(cache["blocks.0.mlp.hook_post"], cache["post", 0]);
            Assert.Same(cache["hook_embed"], cache["embed"]);
            Assert.Equal(model.HookPoints.Count, cache.Count);
            var e = Assert.Throws<KeyNotFoundException>(() => cache["nonsense", 0]);
            Assert.Contains("blocks.0.hook_nonsense", e.Message);
        }
    }

    [Fact]
    public void Cache_filters_by_names_and_by_predicate()
    {
        using var model = Model();
        var (_, byName) = model.RunWithCache(Tokens, "blocks.0.hook_resid_mid", "hook_embed");
        using (byName) Assert.Equal(["blocks.0.hook_resid_mid", "hook_embed"], byName.Keys.Order());
        var (_, byPredicate) = model.RunWithCache(Tokens, name => name.EndsWith("hook_pattern"));
        using (byPredicate) Assert.Equal(["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"], byPredicate.Keys);
        Assert.Throws<ArgumentException>(() => model.RunWithCache(Tokens, "blocks.7.hook_resid_mid"));
    }

    [Fact]
    public void Cached_residuals_add_up_to_the_logits()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None, attnResult: true));
        var (logits, cache) = model.RunWithCache(Tokens);
        using (cache)
        using (no_grad())
        {
            var resid = Held.Add(cache["resid_mid", 1], cache["mlp_out", 1]);
            Assert.True(resid.allclose(cache["resid_post", 1], atol: 1e-6));
            Assert.True(model.unembed.call(cache["resid_post", 1]).allclose(logits, atol: 1e-5));
            // hook_result is each head's output without b_O; their sum plus b_O is hook_attn_out.
            var attnOut = Held.Add(cache["result", 0].sum(2), model.blocks[0].attn.b_O);
            Assert.True(attnOut.allclose(cache["attn_out", 0], atol: 1e-5));
        }
    }

    [Fact]
    public void Cache_outlives_the_dispose_scope_it_was_made_in_and_the_model_state()
    {
        using var model = Model();
        ActivationCache cache;
        using (NewDisposeScope()) (_, cache) = model.RunWithCache(Tokens, "blocks.0.hook_resid_pre");
        using (cache) Assert.Equal([2, 7, 12], cache["resid_pre", 0].shape);
    }

    [Fact]
    public void Zero_ablating_the_attention_output_equals_skipping_attention()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None));
        using var _ = no_grad();
        var ablated = model.RunWithHooks(Tokens, ("blocks.0.hook_attn_out", Ablation.Zero), ("blocks.1.hook_attn_out", Ablation.Zero));

        // By hand: embeddings, then only the MLPs.
        var x = Held.Add(model.embed.call(Tokens), model.pos_embed.call(Tokens));
        foreach (var block in model.blocks) x = Held.Add(x, block.mlp!.call(x));
        var expected = model.unembed.call(x);
        Assert.True(ablated.allclose(expected, atol: 1e-5));
        Assert.False(ablated.allclose(model.call(Tokens), atol: 1e-3));
    }

    [Fact]
    public void Mean_ablating_the_mlp_replaces_its_output_by_the_mean_everywhere()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None));
        using var _ = no_grad();
        var (_, cache) = model.RunWithCache(Tokens, "blocks.1.hook_mlp_out", "blocks.1.hook_resid_mid");
        using (cache)
        {
            var mean = cache["mlp_out", 1].mean([0, 1]);
            var ablated = model.RunWithHooks(Tokens, ("blocks.1.hook_mlp_out", Ablation.Mean(mean)));
            var expected = model.unembed.call(Held.Add(cache["resid_mid", 1], mean));
            Assert.True(ablated.allclose(expected, atol: 1e-5));
        }
    }

    [Fact]
    public void Scoped_hooks_are_removed_at_the_end_of_the_scope_and_on_exceptions()
    {
        using var model = Model();
        int calls = 0;
        HookFunction count = (_, _) => { calls++; return null; };
        using (model.Hooks(("hook_embed", count))) model.call(Tokens);
        model.call(Tokens);
        Assert.Equal(1, calls);

        HookFunction boom = (_, _) => throw new InvalidOperationException("boom");
        Assert.Throws<InvalidOperationException>(() => model.RunWithHooks(Tokens, ("hook_embed", count), ("hook_pos_embed", boom)));
        model.call(Tokens);
        Assert.Equal(2, calls);
        Assert.All(model.HookPoints.Values, h => Assert.False(h.HasHooks));
    }

    [Fact]
    public void A_bad_name_among_scoped_hooks_attaches_none_of_them()
    {
        using var model = Model();
        int calls = 0;
        Assert.Throws<ArgumentException>(() => model.RunWithHooks(Tokens, ("hook_embed", (_, _) => { calls++; return null; }), ("blocks.0.hook_nonsense", (_, _) => null)));
        model.call(Tokens);
        Assert.Equal(0, calls);
        Assert.All(model.HookPoints.Values, h => Assert.False(h.HasHooks));
    }

    [Fact]
    public void In_place_edits_in_a_hook_change_only_that_activation()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        using var _ = no_grad();
        var weightBefore = model.W_pos.clone();
        var (_, clean) = model.RunWithCache(Tokens.view(1, -1)[.., ..7], "blocks.0.hook_k_input", "blocks.0.hook_resid_pre");
        HookFunction zeroInPlace = (a, _) => { a.zero_(); return a; };
        var (_, edited) = RunWithHooksAndCache(model, Tokens.view(1, -1)[.., ..7], ("blocks.0.hook_q_input", zeroInPlace), ("hook_pos_embed", zeroInPlace));
        using (clean)
        using (edited)
        {
            Assert.True(model.W_pos.Equals(weightBefore), "an in-place edit of hook_pos_embed wrote into W_pos");
            Assert.True(edited["k_input", 0].Equals(edited["resid_pre", 0].unsqueeze(2)), "k_input must not see q_input's edit");
            Assert.False(edited["resid_pre", 0].Equals(clean["resid_pre", 0]), "zeroed positional embeddings must change resid_pre");
        }
    }

    static (Tensor, ActivationCache) RunWithHooksAndCache(HookedTransformer model, Tensor tokens, params (string, HookFunction)[] hooks)
    {
        using var scope = model.Hooks(hooks);
        return model.RunWithCache(tokens, "blocks.0.hook_k_input", "blocks.0.hook_resid_pre");
    }

    [Fact]
    public void Permanent_hooks_survive_reset_unless_asked()
    {
        using var model = Model();
        model.AddHook("hook_embed", (a, _) => null, permanent: true);
        model.AddHook("hook_pos_embed", (a, _) => null);
        model.ResetHooks();
        Assert.True(model.GetHookPoint("hook_embed").HasHooks);
        Assert.False(model.GetHookPoint("hook_pos_embed").HasHooks);
        model.ResetHooks(includingPermanent: true);
        Assert.False(model.GetHookPoint("hook_embed").HasHooks);
    }

    [Fact]
    public void A_replacement_of_the_wrong_shape_is_a_clear_error()
    {
        using var model = Model();
        var e = Assert.Throws<InvalidOperationException>(() =>
            model.RunWithHooks(Tokens, ("blocks.0.hook_resid_mid", (a, _) => zeros(3))));
        Assert.Contains("blocks.0.hook_resid_mid", e.Message);
    }

    [Theory]
    [InlineData("pattern", 0, "blocks.0.attn.hook_pattern")]
    [InlineData("attn", 2, "blocks.2.attn.hook_pattern")]
    [InlineData("q", 1, "blocks.1.attn.hook_q")]
    [InlineData("q_input", 0, "blocks.0.hook_q_input")]
    [InlineData("pre", 0, "blocks.0.mlp.hook_pre")]
    [InlineData("resid_mid", 3, "blocks.3.hook_resid_mid")]
    [InlineData("scale", null, "ln_final.hook_scale")]
    [InlineData("embed", null, "hook_embed")]
    [InlineData("blocks.0.hook_mlp_out", null, "blocks.0.hook_mlp_out")]
    public void Short_names_expand_as_in_TransformerLens(string name, int? layer, string expected) =>
        Assert.Equal(expected, ActivationNames.Get(name, layer));
}
