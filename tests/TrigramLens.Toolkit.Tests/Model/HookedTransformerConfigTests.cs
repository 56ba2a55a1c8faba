using TrigramLens.Model;

namespace TrigramLens.Tests.Model;

public class HookedTransformerConfigTests
{
    [Fact]
    public void Derived_fields_follow_TransformerLens_defaults()
    {
        var cfg = new HookedTransformerConfig(n_layers: 2, d_model: 64, n_ctx: 10, d_head: 16, d_vocab: 50);
        Assert.Equal(4, cfg.n_heads);
        Assert.Equal(256, cfg.d_mlp);
        Assert.Equal(50, cfg.d_vocab_out);
        Assert.Equal(0.8 / Math.Sqrt(64), cfg.initializer_range, 12);
        Assert.Equal(NormalizationType.LN, cfg.normalization_type);
        Assert.Equal(1e-5, cfg.eps);
    }

    [Fact]
    public void Attention_only_models_have_no_mlp_width()
    {
        var cfg = new HookedTransformerConfig(n_layers: 1, d_model: 8, n_ctx: 4, d_head: 4, d_vocab: 5, attn_only: true);
        Assert.Equal(0, cfg.d_mlp);
    }

    [Theory]
    [InlineData(0, 32, 50, 16, 75, -1, "n_layers")]
    [InlineData(1, 30, 50, 16, 75, -1, "not a multiple of d_head")]
    [InlineData(1, 32, 0, 16, 75, 1, "n_ctx")]
    [InlineData(1, 32, 50, 16, 0, 1, "d_vocab")]
    [InlineData(1, 32, 50, 16, 75, 0, "n_heads")]
    public void Invalid_configs_are_rejected_with_a_message_naming_the_field(
        int nLayers, int dModel, int nCtx, int dHead, int dVocab, int nHeads, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new HookedTransformerConfig(n_layers: nLayers, d_model: dModel, n_ctx: nCtx, d_head: dHead, d_vocab: dVocab, n_heads: nHeads));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Json_round_trip_preserves_every_field_and_uses_TL_spellings()
    {
        var cfg = new HookedTransformerConfig(n_layers: 1, d_model: 32, n_ctx: 50, d_head: 16, d_vocab: 75, n_heads: 1, d_mlp: 20,
            act_fn: ActivationFunction.Gelu, normalization_type: NormalizationType.None, use_attn_result: true, seed: 40);
        string json = cfg.ToJson();
        Assert.Contains("\"act_fn\":\"gelu\"", json);
        Assert.Contains("\"d_mlp\":20", json);
        Assert.Equal(cfg, HookedTransformerConfig.FromJson(json));
    }

    [Fact]
    public void Json_with_an_invalid_value_is_rejected()
    {
        string json = new HookedTransformerConfig(n_layers: 1, d_model: 8, n_ctx: 4, d_head: 4, d_vocab: 5).ToJson()
            .Replace("\"d_vocab\":5", "\"d_vocab\":-3");
        Assert.Throws<ArgumentException>(() => HookedTransformerConfig.FromJson(json));
    }
}
