using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Hooks;

public class ActivationNamesTests
{
    /// <summary>The examples in TL v3.5.1's <c>get_act_name</c> docstring, and its LayerNorm and layer-type rules.</summary>
    [Theory]
    [InlineData("k", 6, "a", "blocks.6.attn.hook_k")]
    [InlineData("pre", 2, null, "blocks.2.mlp.hook_pre")]
    [InlineData("embed", null, null, "hook_embed")]
    [InlineData("normalized", 27, "ln2", "blocks.27.ln2.hook_normalized")]
    [InlineData("k6", null, null, "blocks.6.attn.hook_k")]
    [InlineData("scale4ln1", null, null, "blocks.4.ln1.hook_scale")]
    [InlineData("pre5", null, null, "blocks.5.mlp.hook_pre")]
    [InlineData("scale", 0, "ln1", "blocks.0.ln1.hook_scale")]
    [InlineData("scale", 3, "ln2", "blocks.3.ln2.hook_scale")]
    [InlineData("scale", null, null, "ln_final.hook_scale")]
    [InlineData("normalized", null, null, "ln_final.hook_normalized")]
    [InlineData("resid_pre", 1, "b", "blocks.1.hook_resid_pre")]
    [InlineData("resid_mid", 0, null, "blocks.0.hook_resid_mid")]
    [InlineData("attn", 0, null, "blocks.0.attn.hook_pattern")]
    [InlineData("attn_logits", 1, null, "blocks.1.attn.hook_attn_scores")]
    [InlineData("value", 0, null, "blocks.0.attn.hook_v")]
    [InlineData("mlp_post", 0, "m", "blocks.0.mlp.hook_post")]
    [InlineData("q_input", 0, null, "blocks.0.hook_q_input")]
    [InlineData("blocks.0.hook_resid_mid", null, null, "blocks.0.hook_resid_mid")]
    [InlineData("hook_tokens", null, null, "hook_tokens")]
    [InlineData("in", null, "unembed", "unembed.hook_in")]
    public void Short_names_expand_as_TransformerLens_get_act_name(string name, int? layer, string? layerType, string expected) =>
        Assert.Equal(expected, ActivationNames.Get(name, layer, layerType));

    [Fact]
    public void LayerNorm_scales_are_reachable_by_short_name_in_the_model_and_the_cache()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        var tokens = tensor(new long[] { 1, 2, 3, 4 }).view(1, 4);
        var (_, cache) = model.RunWithCache(tokens, "scale1ln2", "normalized");
        using (cache)
        {
            Assert.Same(cache["blocks.1.ln2.hook_scale"], cache["scale", 1, "ln2"]);
            Assert.Equal([1, 4, 1], cache["scale", 1, "ln2"].shape);
            Assert.Equal([1, 4, 12], cache["normalized"].shape);
        }
        Assert.Equal("blocks.0.ln1.hook_scale", model.GetHookPoint(ActivationNames.Get("scale", 0, "ln1")).Name);
    }
}
