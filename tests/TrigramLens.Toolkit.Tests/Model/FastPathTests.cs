using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Model;

/// <summary>The unhooked fast path (fused attention, shared split inputs) computes what the hooked path computes.</summary>
public class FastPathTests
{
    public static TheoryData<string> Configs => ["arena", "deep", "deep-split", "deep-attn-only"];

    static HookedTransformerConfig Config(string name) => name switch
    {
        "arena" => TinyModels.Arena(),
        "deep" => TinyModels.Deep(),
        "deep-split" => TinyModels.Deep(splitQkv: true, attnResult: true),
        _ => TinyModels.Deep(attnOnly: true, norm: NormalizationType.None),
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Outputs_with_and_without_an_attention_hook_agree(string config)
    {
        using var model = new HookedTransformer(Config(config));
        using var g = new Generator(3);
        var tokens = randint(0, model.Cfg.d_vocab, [4, model.Cfg.n_ctx], generator: g);
        var fast = model.call(tokens);
        // Observing hooks force the hooked path and must see the activations of that path.
        int seen = 0;
        using (model.AddHook(n => n.Contains("attn.hook_") || n.EndsWith("_input", StringComparison.Ordinal), (_, _) => { seen++; return null; }))
        {
            var hooked = model.call(tokens);
            Assert.True(fast.allclose(hooked, rtol: 1e-5, atol: 1e-5), $"max diff {(fast - hooked).abs().max().item<float>()}");
        }
        Assert.True(seen > 0);
    }

    [Fact]
    public void Forward_except_last_is_forward_without_its_last_position()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        using var g = new Generator(4);
        var tokens = randint(0, model.Cfg.d_vocab, [3, 7], generator: g);
        var full = model.call(tokens);
        Assert.True(model.ForwardExceptLast(tokens).allclose(full[.., ..^1], atol: 1e-6));
        using (model.AddHook("ln_final.hook_scale", (_, _) => null))
            Assert.True(model.ForwardExceptLast(tokens).allclose(full[.., ..^1], atol: 1e-6));
    }
}
