using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

public class QkScoresTests
{
    static readonly long[] Tokens = [4, 9, 1, 1, 7, 3];

    /// <summary>The model's own (scaled, masked) scores with one embedding zeroed, scaled back.</summary>
    static Tensor ModelScores(HookedTransformer model, string zeroed)
    {
        using var _ = no_grad();
        model.state_dict()[zeroed].zero_();
        var (_, cache) = model.RunWithCache(tensor(Tokens).view(1, -1), "blocks.0.attn.hook_attn_scores");
        using (cache) return Held.Mul(cache["attn_scores", 0][0, 1], Math.Sqrt(model.Cfg.d_head));
    }

    [Fact]
    public void Token_only_scores_are_the_models_scores_without_positional_embeddings()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None));
        var library = QkScores.TokenOnly(model, tensor(Tokens), 0, head: 1, causal: true);
        var viaModel = ModelScores(model, "pos_embed.W_pos");
        Assert.True(library.isneginf().Equals(viaModel.isneginf()));
        var finite = library.isfinite();
        Assert.True(library.masked_select(finite).allclose(viaModel.masked_select(finite), atol: 1e-4));
    }

    [Fact]
    public void Positional_scores_are_the_models_scores_without_token_embeddings()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None));
        var library = QkScores.Positional(model, 0, head: 1, positions: Tokens.Length);
        var viaModel = ModelScores(model, "embed.W_E");
        var lower = ones(Tokens.Length, Tokens.Length, ScalarType.Bool).tril();
        Assert.True(library.masked_select(lower).allclose(viaModel.masked_select(lower), atol: 1e-4));
        Assert.Equal([9, 9], QkScores.Positional(model, 0, 1).shape);
    }

    [Fact]
    public void Token_pair_map_rows_are_distributions_over_keys()
    {
        using var model = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None));
        var map = QkScores.TokenPairMap(model, Held.Range(11), 1, 2);
        Assert.Equal([11, 11], map.shape);
        Assert.True(map.sum(-1).allclose(ones(11), atol: 1e-5));
    }
}
