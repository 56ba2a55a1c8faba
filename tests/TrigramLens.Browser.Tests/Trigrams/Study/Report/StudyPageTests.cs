using System.Globalization;
using Microsoft.Playwright;
using TrigramLens.Analysis;
using TrigramLens.Hooks;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Study.Report;
using Xunit.Abstractions;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Browser.Tests.Trigrams.Study.Report;

/// <summary>
/// report.html of ARENA's checkpoint in a real browser, from file://: every interactive part against the C# model and
/// the study's own numbers. Screenshots go to the test output's artifacts/ folder.
/// </summary>
public sealed class StudyPageTests(Chromium chromium, ArenaStudy study, ITestOutputHelper output)
    : IClassFixture<Chromium>, IClassFixture<ArenaStudy>
{
    readonly List<string> _errors = [];
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    async Task<IPage> Open()
    {
        var page = await chromium.NewPageAsync(_errors);
        await page.GotoAsync(new Uri(study.ReportPath).AbsoluteUri);
        await page.WaitForFunctionAsync("() => window.trigramlens && window.trigramlens.ready");
        return page;
    }

    async Task Screenshot(IPage page, string name, string? selector = null)
    {
        string path = Path.Combine(Chromium.Artifacts, name + ".png");
        if (selector is null) await page.ScreenshotAsync(new() { Path = path, FullPage = false });
        else await page.Locator(selector).ScreenshotAsync(new() { Path = path });
        output.WriteLine($"screenshot: {path}");
    }

    void AssertClean()
    {
        Assert.Empty(_errors);
        Assert.Empty(chromium.BlockedRequests);
    }

    /// <summary>C#'s attention pattern of one row, [q][k], from RunWithCache.</summary>
    double[] Pattern(long[] tokens)
    {
        using var scope = NewDisposeScope();
        var (_, cache) = study.Model.RunWithCache(tensor(tokens).view(1, -1), "blocks.0.attn.hook_pattern");
        using (cache) return cache["pattern", 0][0, 0].to(ScalarType.Float64).contiguous().data<double>().ToArray();
    }

    [ArenaBrowserFact]
    public async Task Opening_the_report_and_switching_rows_are_timed_and_nothing_is_fetched()
    {
        var (opens, builds) = (new List<double>(), new List<double>());
        IPage page = null!;
        for (int i = 0; i < 5; i++)
        {
            if (page is not null) await page.CloseAsync();
            page = await Open();
            opens.Add(await page.EvaluateAsync<double>("() => trigramlens.timings.openMs"));
            builds.Add(await page.EvaluateAsync<double>("() => trigramlens.timings.buildMs"));
        }
        // 100 row switches through the page's own setRow (model run and drawing included), then 20 by key presses.
        var switches = await page.EvaluateAsync<double[]>("() => Array.from({ length: 100 }, (_, i) => trigramlens.setRow((i * 97) % 2500))");
        await page.Locator("#row-browser").FocusAsync();
        var keyed = new List<double>();
        for (int i = 0; i < 20; i++)
        {
            await page.Keyboard.PressAsync("ArrowRight");
            keyed.Add(await page.EvaluateAsync<double>("() => trigramlens.rows.lastSwitchMs"));
        }
        Assert.Equal((99 * 97 % 2500) + 20, await page.EvaluateAsync<int>("() => trigramlens.rows.row"));
        long bytes = new FileInfo(study.ReportPath).Length;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string again = StudyReport.Render(study.Results, StudyReportInputs.From(study.Model, study.Analysis));
        output.WriteLine($"writing the page again (means over the analysis set, weights, tokens, HTML): {clock.Elapsed.TotalSeconds:F2} s, {again.Length:N0} chars");
        output.WriteLine($"report.html: {bytes:N0} bytes ({bytes / 1024.0:F0} KiB) with {study.Results.AnalysisDataset.Size:N0} rows; study {study.StudySeconds:F1} s");
        output.WriteLine($"open (navigation start to ready), 5 loads: median {Median(opens):F0} ms [{string.Join(", ", opens.Select(x => x.ToString("F0", C)))}]");
        output.WriteLine($"of which the page's scripts (data decoding, model, first row, live model, pair map): median {Median(builds):F0} ms");
        var sorted = switches.Order().ToList();
        output.WriteLine($"row switch, 100 via setRow: median {Median(switches):F1} ms, 95th percentile {sorted[94]:F1} ms, max {sorted[^1]:F1} ms; " +
                         $"20 via arrow key: median {Median(keyed):F1} ms");
        File.WriteAllText(Path.Combine(Chromium.Artifacts, "report-timings.txt"),
            $"bytes {bytes}\nopen_ms {string.Join(" ", opens.Select(x => x.ToString("F1", C)))}\nswitch_ms_median {Median(switches).ToString("F2", C)}\nswitch_ms_max {switches.Max().ToString("F2", C)}\n");
        await Screenshot(page, "report-top");
        AssertClean();
    }

    static double Median(IReadOnlyCollection<double> xs) => xs.Order().ElementAt((xs.Count - 1) / 2);

    // Tensors are computed in synchronous helpers: a dispose scope (thread-local) must never stay open across an await,
    // or tensors other tests make on this thread meanwhile would land in it.

    (bool[] checks, long[] prefixPositions) Marks(long[] tokens)
    {
        using var scope = NewDisposeScope();
        var argmax = study.Model.call(tensor(tokens).view(1, -1))[0].argmax(-1).data<long>().ToArray();
        var checks = Enumerable.Range(0, tokens.Length).Select(q => q + 1 < tokens.Length && argmax[q] == tokens[q + 1]).ToArray();
        var positions = TrigramDataset.TrigramPositions(tensor(tokens).view(1, -1), study.Analysis.Trigrams)[.., 1].data<long>().ToArray();
        return (checks, positions);
    }

    (long[] tokens, float[] probabilities) Top5(long[] tokens, int position)
    {
        using var scope = NewDisposeScope();
        var (top, index) = study.Model.call(tensor(tokens).view(1, -1))[0, position].softmax(-1).topk(5);
        return (index.data<long>().ToArray(), top.data<float>().ToArray());
    }

    double[] TokenPairMap()
    {
        using var scope = NewDisposeScope();
        return QkScores.TokenPairMap(study.Model, Held.Range(75), 0, 0).to(ScalarType.Float64).contiguous().data<double>().ToArray();
    }

    [ArenaBrowserFact]
    public async Task The_row_browser_shows_each_rows_own_attention_checks_and_prefix_bands()
    {
        var page = await Open();
        var browser = page.Locator("#row-browser");
        async Task Check(int row)
        {
            var tokens = study.Row(row);
            Assert.Equal(row, await page.EvaluateAsync<int>("() => trigramlens.rows.row"));
            Assert.Equal(tokens, await page.EvaluateAsync<long[]>("() => trigramlens.rows.view.shown.tokens"));
            var shown = await page.EvaluateAsync<double[]>("() => trigramlens.rows.view.shown.pattern");
            var expected = Pattern(tokens);
            Assert.Equal(expected.Length, shown.Length);
            Assert.All(expected.Zip(shown), x => Assert.Equal(x.First, x.Second, 4));

            // ✓ where C#'s argmax is the next token; bands at C#'s trigram positions of this row.
            var (checks, positions) = Marks(tokens);
            Assert.Equal(checks, await page.EvaluateAsync<bool[]>("() => trigramlens.rows.view.correct"));
            Assert.Equal(positions, await page.EvaluateAsync<long[]>("() => trigramlens.rows.view.prefixes"));
        }

        await Check(0);
        await browser.Locator(".row-slider").FillAsync("1234");            // the slider
        await Check(1234);
        await browser.Locator(".row-number").FillAsync("2499");            // the number box, committed with Tab
        await browser.Locator(".row-number").PressAsync("Tab");
        await Check(2499);
        await browser.FocusAsync();                                         // arrow keys, clamped at the ends
        await page.Keyboard.PressAsync("ArrowRight");
        await Check(2499);
        await page.Keyboard.PressAsync("ArrowLeft");
        await page.Keyboard.PressAsync("ArrowLeft");
        await Check(2497);
        await Screenshot(page, "row-browser-2497", "#row-browser");
        AssertClean();
    }

    [ArenaBrowserFact]
    public async Task Hovering_the_map_shows_query_key_weight_and_the_predictions_there()
    {
        var page = await Open();
        int row = 7;
        await page.EvaluateAsync($"() => trigramlens.setRow({row})");
        var tokens = study.Row(row);
        var pattern = Pattern(tokens);
        // A query at a trigram completion (second token of a prefix), looking at the prefix's first token.
        var prefixes = await page.EvaluateAsync<int[]>("() => trigramlens.rows.view.prefixes");
        Assert.NotEmpty(prefixes);
        int q = prefixes[0] + 1, k = prefixes[0];
        await page.Locator("#row-browser canvas").First.ScrollIntoViewIfNeededAsync();
        var at = await page.EvaluateAsync<double[]>($"() => {{ const c = trigramlens.rows.view.heatmap.cellCenter({q}, {k}); return [c.x, c.y]; }}");
        await page.Mouse.MoveAsync((float)at[0], (float)at[1]);
        string tip = await page.Locator("#row-browser .tl-tooltip").InnerTextAsync();
        Assert.Contains($"query {q}: token {tokens[q]}", tip);
        Assert.Contains($"key {k}: token {tokens[k]}", tip);
        Assert.Contains("weight " + pattern[q * tokens.Length + k].ToString("F4", C), tip);

        // Beside it: position q's top 5 as C# computes them, and the completion the trigram forces there.
        string side = await page.Locator("#row-browser .seq-side").InnerTextAsync();
        Assert.Contains($"Position {q}, token {tokens[q]}", side);
        var (index, top) = Top5(tokens, q);
        var sideRows = side.Split('\n').Select(l => l.Trim()).ToList();
        for (int i = 0; i < 5; i++)
            Assert.Contains($"{index[i]}\t{top[i].ToString("F4", C)}", sideRows);
        int forced = study.Analysis.Trigrams.Completion((int)tokens[q - 1], (int)tokens[q])!.Value;
        Assert.Contains($"Trigram ({tokens[q - 1]}, {tokens[q]}) → {forced} is forced here", side);
        await Screenshot(page, "row-browser-hover", "#row-browser");

        // The token view: hovering token q colours every other token by the attention q pays to it.
        await page.Locator($"#row-browser .tl-token[data-index=\"{q}\"]").HoverAsync();
        var weights = await page.EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('#row-browser .tl-token')).map(s => s.dataset.weight || '')");
        for (int j = 0; j < tokens.Length; j++) Assert.Equal(pattern[q * tokens.Length + j].ToString("F4", C), weights[j]);
        await page.Locator("#row-browser .tl-tokens-mode input[value=receives]").CheckAsync();
        await page.Locator($"#row-browser .tl-token[data-index=\"{k}\"]").HoverAsync();
        weights = await page.EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('#row-browser .tl-token')).map(s => s.dataset.weight || '')");
        for (int j = 0; j < tokens.Length; j++) Assert.Equal(pattern[j * tokens.Length + k].ToString("F4", C), weights[j]);
        AssertClean();
    }

    [ArenaBrowserFact]
    public async Task Typed_sequences_give_the_CSharp_models_logits()
    {
        var page = await Open();
        var input = page.Locator("#live-model .live-tokens");
        var random = new Random(5);
        long[][] sequences = [[1, 74, 72], [72, 72], [0], [.. study.Row(3)], [.. Enumerable.Range(0, 20).Select(_ => (long)random.Next(75))]];
        foreach (var tokens in sequences)
        {
            await input.FillAsync(string.Join(", ", tokens));
            var state = await State(page);
            Assert.Equal(tokens, state.Tokens);
            ReferenceModels.AssertPageLogits(study.Model, study.Model64, tokens, state.Logits, $"typed [{string.Join(",", tokens)}]");
            ReferenceModels.AssertPageLogits(study.Model, study.Model64, tokens,
                await page.EvaluateAsync<double[][]>("t => trigramlens.forward(t)", tokens), "trigramlens.forward");
        }
        // Bad input says why and keeps the last good run.
        await input.FillAsync("1, 74, 99");
        Assert.Contains("token 99 is outside the vocabulary", await page.Locator("#live-model .live-error").InnerTextAsync());
        Assert.Equal(sequences[^1], (await State(page)).Tokens);
        await Screenshot(page, "live-model", "#live");
        AssertClean();
    }

    /// <summary>What the live panel shows: its tokens and logits [pos][d_vocab].</summary>
    public sealed record LiveState(long[] Tokens, double[][] Logits);

    static async Task<LiveState> State(IPage page) => new(
        await page.EvaluateAsync<long[]>("() => trigramlens.state().tokens"),
        await page.EvaluateAsync<double[][]>("() => trigramlens.state().logits"));

    [ArenaBrowserFact]
    public async Task Ablations_in_the_page_equal_the_CSharp_hooks()
    {
        var page = await Open();
        long[] tokens = [1, 74, 72, 5, 40, 23, 46];
        await page.Locator("#live-model .live-tokens").FillAsync(string.Join(",", tokens));

        // The MLP mean-ablated: the page's mean is the study's mean hook_mlp_out (analysis set, all positions but the last).
        await page.Locator("#live-model select[data-ablate='0']").SelectOptionAsync("mean");
        var mean = study.Results.DirectLogitAttribution.MeanMlpOut;
        var pageMean = await page.EvaluateAsync<double[]>("() => Array.from(trigramlens.context.means['blocks.0.hook_mlp_out'].data)");
        Assert.All(mean.Zip(pageMean), x => Assert.Equal(x.First, x.Second, 1e-5));   // float32 vs float64 accumulation
        HookFunction Mean(float[] values) => (a, h) => { using var m = tensor(values).to(a.dtype); return Ablation.Mean(m)(a, h); };
        var state = await State(page);
        ReferenceModels.AssertPageLogits(study.Model, study.Model64, tokens, state.Logits, "MLP mean-ablated", ("blocks.0.hook_mlp_out", Mean(mean)));
        Assert.Contains("clean p", await page.Locator("#live-model .seq-side").InnerTextAsync());

        // The MLP zeroed, and the head zeroed.
        await page.Locator("#live-model select[data-ablate='0']").SelectOptionAsync("zero");
        state = await State(page);
        ReferenceModels.AssertPageLogits(study.Model, study.Model64, tokens, state.Logits, "MLP zeroed", ("blocks.0.hook_mlp_out", Ablation.Zero));
        await page.Locator("#live-model select[data-ablate='0']").SelectOptionAsync("");
        await page.Locator("#live-model select[data-ablate='0,0']").SelectOptionAsync("zero");
        state = await State(page);
        ReferenceModels.AssertPageLogits(study.Model, study.Model64, tokens, state.Logits, "head zeroed", ("blocks.0.attn.hook_z", Ablation.Zero));
        await page.Locator("#live-model select[data-ablate='0,0']").SelectOptionAsync("");

        // Two single neurons, clicked in the strip, set to their means over the analysis set.
        await page.Locator("#live-model select[data-ablate='neuron-mode']").SelectOptionAsync("mean");
        await page.Locator("#live-model .neuron[data-neuron='0,3']").ClickAsync();
        await page.Locator("#live-model .neuron[data-neuron='0,11']").ClickAsync();
        var neuronMeans = await page.EvaluateAsync<double[]>("() => Array.from(trigramlens.context.means['blocks.0.mlp.hook_post'].data)");
        using var postMean = CSharpMeanPost();
        Assert.All(postMean.data<float>().ToArray().Zip(neuronMeans), x => Assert.Equal(x.First, x.Second, 1e-5));
        HookFunction Neurons = (post, _) =>
        {
            var c = post.clone();
            foreach (int n in new[] { 3, 11 }) c[.., .., n] = tensor(neuronMeans[n]).to(post.dtype);
            return c;
        };
        state = await State(page);
        ReferenceModels.AssertPageLogits(study.Model, study.Model64, tokens, state.Logits, "neurons 3, 11 mean-ablated", ("blocks.0.mlp.hook_post", Neurons));
        await Screenshot(page, "live-ablated", "#live");
        AssertClean();
    }

    /// <summary>hook_post's mean over the analysis set, every position but the last, computed here without the page's code.</summary>
    Tensor CSharpMeanPost()
    {
        using var scope = NewDisposeScope();
        var (_, cache) = study.Model.RunWithCache(study.Analysis.Tokens, "blocks.0.mlp.hook_post");
        using (cache) return cache["post", 0][.., ..^1].mean([0, 1]).MoveToOuterDisposeScope();
    }

    [ArenaBrowserFact]
    public async Task Token_pair_map_and_trigram_table_are_interactive()
    {
        var page = await Open();
        var expected = TokenPairMap();
        var values = await page.EvaluateAsync<double[]>("() => Array.from(trigramlens.pairMap.values)");
        Assert.All(expected.Zip(values), x => Assert.Equal(x.First, x.Second, 4));
        // The page's own hot-spot count agrees with the study's.
        Assert.Contains($"{study.Results.TokenPairMap.HotSpots} cells of 5625", await page.Locator("#pair-map").InnerTextAsync());

        var t = study.Analysis.Trigrams.SortedBySecond()[10];
        await page.Locator("#pair-map canvas").ScrollIntoViewIfNeededAsync();
        var at = await page.EvaluateAsync<double[]>($"() => {{ const c = trigramlens.pairMap.heatmap.cellCenter({t.B}, {t.A}); return [c.x, c.y]; }}");
        await page.Mouse.MoveAsync((float)at[0], (float)at[1]);
        string tip = await page.Locator("#pair-map .tl-tooltip").InnerTextAsync();
        Assert.Contains($"query b = {t.B}, key a = {t.A}: attention {expected[t.B * 75 + t.A].ToString("F4", C)}", tip);
        Assert.Contains($"true prefix: ({t.A}, {t.B}) → {t.C}", tip);
        await Screenshot(page, "token-pair-map", "#pair-map");
        await page.Mouse.ClickAsync((float)at[0], (float)at[1]);
        Assert.Equal([t.A, t.B], (await State(page)).Tokens.Select(x => (int)x));

        var u = study.Analysis.Trigrams.SortedBySecond()[42];
        await page.Locator($"#trigram-table tr[data-tokens='{u.A},{u.B}']").ClickAsync();
        var state = await State(page);
        Assert.Equal([u.A, u.B], state.Tokens.Select(x => (int)x));
        Assert.Equal($"{u.A}, {u.B}", await page.Locator("#live-model .live-tokens").InputValueAsync());
        Assert.Contains($"Trigram ({u.A}, {u.B}) → {u.C} is forced here", await page.Locator("#live-model .seq-side").InnerTextAsync());
        AssertClean();
    }

    [ArenaBrowserFact]
    public async Task Sections_are_numbered_without_gaps_and_figures_open_full_size()
    {
        var page = await Open();
        var headings = await page.Locator("section[id^=s] > h2").AllInnerTextsAsync();
        var numbers = headings.Select(h => int.Parse(h[..h.IndexOf('.')], C)).Where(n => n > 0).ToList();
        Assert.Equal(Enumerable.Range(1, 11), numbers);
        Assert.Contains("Not run", await page.Locator("#s9").InnerTextAsync());

        var figure = page.Locator("#s3 a.full-size").First;
        string file = (await figure.GetAttributeAsync("href"))!;
        await figure.ClickAsync();
        var box = page.Locator("#lightbox");
        Assert.True(await box.IsVisibleAsync());
        await page.WaitForFunctionAsync("() => document.querySelector('#lightbox img').complete");
        var size = await page.EvaluateAsync<int[]>("() => { const i = document.querySelector('#lightbox img'); return [i.naturalWidth, i.width]; }");
        Assert.True(size[0] > 0 && size[0] == size[1], $"lightbox image shown at {size[1]} px of {size[0]}");
        Assert.EndsWith(file, await page.EvaluateAsync<string>("() => document.querySelector('#lightbox img').src"));
        await Screenshot(page, "figure-full-size");
        await page.Keyboard.PressAsync("Escape");
        Assert.False(await box.IsVisibleAsync());
        AssertClean();
    }
}
