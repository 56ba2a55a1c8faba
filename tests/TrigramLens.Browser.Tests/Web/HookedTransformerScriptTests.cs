using System.Text.Json.Nodes;
using Microsoft.Playwright;
using TorchSharp;
using TrigramLens.Checkpoints;
using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Web;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrigramLens.Browser.Tests.Web;

/// <summary>
/// The page's own forward pass (Scripts/hooked-transformer.js) in a real browser against the C# model: logits, cached
/// activations, ablation hooks and the residual decomposition, on the challenge's shape and on the general configs
/// (several layers and heads, LayerNorm, GELU, attention-only, a separate output vocabulary).
/// </summary>
public sealed class HookedTransformerScriptTests(Chromium chromium, ITestOutputHelper output) : IClassFixture<Chromium>, IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("trigramlens-web-").FullName;
    readonly List<string> _errors = [];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A page holding only the web layer's scripts and one exported model, as <c>window.model</c>.</summary>
    async Task<IPage> ModelPage(HookedTransformer model)
    {
        var export = ModelExport.Export(model);
        Assert.True(export.Embedded);
        string html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>" + HtmlEmbedding.JsonScript("model", export.Json!)
            + HtmlEmbedding.Script(WebAssets.AllScripts())
            + "<script>window.model = new TrigramLensWeb.HookedTransformer(JSON.parse(document.getElementById('model').textContent));</script></body></html>";
        string path = Path.Combine(_dir, $"model-{Guid.NewGuid():N}.html");
        File.WriteAllText(path, html);
        var page = await chromium.NewPageAsync(_errors);
        await page.GotoAsync(new Uri(path).AbsoluteUri);
        return page;
    }

    static long[][] Sequences(HookedTransformerConfig cfg, int seed)
    {
        var random = new Random(seed);
        long[] Draw(int n) => Enumerable.Range(0, n).Select(_ => (long)random.Next(cfg.d_vocab)).ToArray();
        return [Draw(1), Draw(2), Draw(Math.Min(3, cfg.n_ctx)), Draw(cfg.n_ctx / 2 + 1), Draw(cfg.n_ctx)];
    }

    async Task AssertForwardMatches(HookedTransformer model, int seed)
    {
        var page = await ModelPage(model);
        using var model64 = ReferenceModels.InFloat64(model);
        double worst64 = 0, worst32 = 0;
        foreach (var tokens in Sequences(model.Cfg, seed))
        {
            var (d64, d32) = ReferenceModels.AssertPageLogits(model, model64, tokens,
                await page.EvaluateAsync<double[][]>("t => model.forward(t)", tokens), $"[{string.Join(",", tokens)}]");
            (worst64, worst32) = (Math.Max(worst64, d64), Math.Max(worst32, d32));
        }
        output.WriteLine($"{model.Cfg.n_layers} layers, {model.Cfg.n_heads} heads, {model.Cfg.act_fn}, {model.Cfg.normalization_type}: " +
                         $"page vs C# float64 {worst64:E1}, vs C# float32 {worst32:E1}");
        Assert.Empty(_errors);
        Assert.Empty(chromium.BlockedRequests);
    }

    static readonly string[] Configs = ["arena-shape", "deep-ln-gelu", "deep-split-result", "deep-none-relu", "deep-attn-only", "deep-ln-relu-dhead1"];

    static HookedTransformerConfig Config(string name) => name switch
    {
        "arena-shape" => TinyModels.Arena(seed: 3),
        "deep-ln-gelu" => TinyModels.Deep(),
        "deep-split-result" => TinyModels.Deep(splitQkv: true, attnResult: true, seed: 8),
        "deep-none-relu" => TinyModels.Deep(norm: NormalizationType.None, act: ActivationFunction.Relu, seed: 9),
        "deep-attn-only" => TinyModels.Deep(attnOnly: true, seed: 10),
        "deep-ln-relu-dhead1" => TinyModels.Deep(act: ActivationFunction.Relu, dHead: 1, seed: 11),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Larger weights than TL's init, so the GELU and LayerNorm paths matter.</summary>
    static void Perturb(HookedTransformer model)
    {
        using var _ = no_grad();
        using var scale = 0.3.ToScalar();
        foreach (var p in model.parameters()) p.add_(randn_like(p).mul_(scale), TrigramLens.Runtime.HeldScalars.One);
    }

    [BrowserFact]
    public async Task Page_logits_equal_the_CSharp_models_for_every_supported_config()
    {
        foreach (string name in Configs)
        {
            using var model = new HookedTransformer(Config(name));
            Perturb(model);
            await AssertForwardMatches(model, name.Length);
        }
    }

    [ArenaBrowserFact]
    public async Task Page_logits_equal_the_CSharp_model_on_ARENAs_checkpoint()
    {
        using var model = ModelCheckpoint.Load(ReferenceData.RequireArenaCheckpoint(), TrigramLens.Trigrams.Training.TrigramModelConfig.CheckpointOptions);
        await AssertForwardMatches(model, 40);
    }

    [BrowserFact]
    public async Task Cached_patterns_hooks_and_the_residual_decomposition_match_the_CSharp_model()
    {
        using var model = new HookedTransformer(TinyModels.Deep(seed: 12));
        Perturb(model);
        var page = await ModelPage(model);
        long[] tokens = [3, 1, 4, 1, 5, 9, 2, 6];

        // Attention patterns of every layer and head, as RunWithCache records them.
        var (_, cache) = model.RunWithCache(tensor(tokens).view(1, -1), n => n.EndsWith("hook_pattern", StringComparison.Ordinal));
        using (cache)
            for (int layer = 0; layer < 2; layer++)
            {
                var expected = cache["pattern", layer][0].to(ScalarType.Float64).data<double>().ToArray();   // [head, q, k]
                var actual = await page.EvaluateAsync<double[]>(
                    "([t, l]) => Array.from(model.run(t).cache['blocks.' + l + '.attn.hook_pattern'].data)", new object[] { tokens, layer });
                Assert.Equal(expected.Length, actual.Length);
                Assert.All(expected.Zip(actual), x => Assert.Equal(x.First, x.Second, 4));
            }

        // Zero-ablating head 1 of layer 0 through hook_z, and mean-ablating the layer-1 MLP, as the C# hooks do.
        using var model64 = ReferenceModels.InFloat64(model);
        ReferenceModels.AssertPageLogits(model, model64, tokens, await page.EvaluateAsync<double[][]>(
                "t => model.forward(t, { hooks: { 'blocks.0.attn.hook_z': TrigramLensWeb.ablation.head(1) } })", tokens), "head ablation",
            ("blocks.0.attn.hook_z", (z, _) => { var c = z.clone(); c[.., .., 1] = zeros(1, dtype: z.dtype); return c; }));
        using var mean = randn(12, dtype: ScalarType.Float64);
        ReferenceModels.AssertPageLogits(model, model64, tokens, await page.EvaluateAsync<double[][]>(
                "([t, m]) => model.forward(t, { hooks: { 'blocks.1.hook_mlp_out': TrigramLensWeb.ablation.mean(m) } })",
                new object[] { tokens, mean.data<double>().ToArray() }), "mean-ablated MLP",
            ("blocks.1.hook_mlp_out", (a, h) => Ablation.Mean(mean.to(a.dtype))(a, h)));

        // The decomposition's parts add up to each logit, through ln_final's scale.
        var sums = await page.EvaluateAsync<double[][]>(@"t => {
            const run = model.run(t), V = model.cfg.d_vocab_out, out = [];
            for (let p = 0; p < t.length; p++) for (const v of [0, 5, V - 1]) {
              const parts = model.decompose(run, p, v);
              out.push([parts.reduce((s, x) => s + x.logit, 0), run.logits.data[p * V + v]]);
            }
            return out; }", tokens);
        Assert.All(sums, s => Assert.Equal(s[1], s[0], 9));
        Assert.Empty(_errors);
    }

    [BrowserFact]
    public async Task Bad_sequences_are_refused_with_a_reason()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        var page = await ModelPage(model);
        string Message(string js) => page.EvaluateAsync<string>($"() => {{ try {{ {js}; return 'no error'; }} catch (e) {{ return e.message; }} }}").Result;
        Assert.Contains("outside [0, 11)", Message("model.forward([1, 11])"));
        Assert.Contains("exceeds n_ctx = 9", Message("model.forward([1,1,1,1,1,1,1,1,1,1])"));
        Assert.Contains("at least one token", Message("model.forward([])"));
    }
}
