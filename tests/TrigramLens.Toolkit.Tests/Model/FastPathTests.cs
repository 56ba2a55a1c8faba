using TrigramLens.Kernels;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Training;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Model;

/// <summary>
/// The trainer's fast path (inside <see cref="HandWrittenKernels.Use"/>, unhooked: the attention kernel on a fused
/// projection where d_head is a multiple of 8, libtorch's fused attention otherwise; shared split inputs; the fused
/// cross-entropy) computes what the hooked path computes, to float rounding.
/// </summary>
public class FastPathTests
{
    public static TheoryData<string> Configs => ["arena", "deep", "deep-split", "deep-attn-only", "deep-heads-of-8", "deep-heads-of-24"];

    static HookedTransformerConfig Config(string name) => name switch
    {
        "arena" => TinyModels.Arena(),
        "deep" => TinyModels.Deep(),
        "deep-split" => TinyModels.Deep(splitQkv: true, attnResult: true),
        "deep-heads-of-8" => TinyModels.Deep(dHead: 8),
        "deep-heads-of-24" => TinyModels.Deep(dHead: 24, splitQkv: true),
        _ => TinyModels.Deep(attnOnly: true, norm: NormalizationType.None),
    };

    static bool AttentionInternals(string name) => name.Contains("attn.hook_") || name.EndsWith("_input", StringComparison.Ordinal);

    // Two independent ways to the same gradient: autograd through the hooked path's matmuls and softmax and
    // libtorch's cross_entropy, and the fast path's hand-written backward passes.
    [Theory]
    [MemberData(nameof(Configs))]
    public void Training_gradients_with_and_without_an_attention_hook_agree(string config)
    {
        using var model = new HookedTransformer(Config(config));
        using var g = new Generator(5);
        var tokens = randint(0, model.Cfg.d_vocab, [5, model.Cfg.n_ctx], generator: g);
        var parameters = model.parameters().Cast<Tensor>().ToList();
        Tensor[] fast;
        using (HandWrittenKernels.Use()) fast = [.. autograd.grad([Held.Mul(NextTokenLoss.Compute(model, tokens), 0.7)], parameters, allow_unused: true)];
        using (model.AddHook(AttentionInternals, (_, _) => null))
        {
            var logits = model.call(tokens);
            var loss = Held.Mul(nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, logits.shape[2]), tokens[.., 1..].reshape(-1)), 0.7);
            var hooked = autograd.grad([loss], parameters, allow_unused: true);
            for (int i = 0; i < parameters.Count; i++)
            {
                if (hooked[i] is null || hooked[i].IsInvalid) continue;
                Assert.True(fast[i].allclose(hooked[i], rtol: 1e-4, atol: 1e-6),
                    $"parameter {i} {string.Join("×", parameters[i].shape)}: max diff {(fast[i] - hooked[i]).abs().max().item<float>()}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Outputs_with_and_without_an_attention_hook_agree(string config)
    {
        using var model = new HookedTransformer(Config(config));
        using var g = new Generator(3);
        var tokens = randint(0, model.Cfg.d_vocab, [4, model.Cfg.n_ctx], generator: g);
        Tensor fast;
        using (HandWrittenKernels.Use()) fast = model.call(tokens);
        Assert.False(fast.Equals(model.call(tokens)) && model.Cfg.d_head % 8 == 0, "the kernel did not run: outputs are bit-identical to the plain path");
        // Observing hooks force the hooked path, even for the trainer, and must see the activations of that path.
        int seen = 0;
        using (model.AddHook(AttentionInternals, (_, _) => { seen++; return null; }))
        {
            Tensor hooked;
            using (HandWrittenKernels.Use()) hooked = model.call(tokens);
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
