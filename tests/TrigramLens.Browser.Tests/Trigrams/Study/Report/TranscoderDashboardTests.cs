using System.Globalization;
using Microsoft.Playwright;
using TorchSharp;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Study.Report;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrigramLens.Browser.Tests.Trigrams.Study.Report;

/// <summary>
/// Section 9 with a synthetic transcoder (random weights on an untrained model of the challenge's shape), in every
/// architecture the contract names: the page's encoder against the C# one, and the dashboard's numbers against C#.
/// </summary>
public sealed class TranscoderDashboardTests(Chromium chromium, TinyStudy study, ITestOutputHelper output)
    : IClassFixture<Chromium>, IClassFixture<TinyStudy>
{
    const int Features = 24;
    static readonly CultureInfo C = CultureInfo.InvariantCulture;
    readonly List<string> _errors = [];
    HookedTransformer _model => study.Model;

    public static TranscoderReport Synthetic(string architecture, int dModel = 32, int seed = 3) => new()
    {
        Transcoder = SyntheticTranscoders.Random(architecture, dModel, Features, seed, k: 4),
        Summary = new Dictionary<string, double> { ["explained_variance"] = 0.5, ["l0"] = 3.2 },
    };

    /// <summary>A study of the tiny model with the transcoder in its report; returns the report's path and what went in.</summary>
    (string path, StudyReportInputs inputs) Report(TranscoderReport transcoder, Func<StudyReportInputs, TranscoderReport>? adjust = null)
    {
        var inputs = StudyReportInputs.From(_model, study.Analysis, transcoder);
        if (adjust is not null) inputs = inputs.WithTranscoder(adjust(inputs));
        string path = Path.Combine(study.Directory, $"report-{transcoder.Architecture}-{Guid.NewGuid():N}.html");
        StudyReport.Write(path, study.Results, inputs);
        return (path, inputs);
    }

    async Task<IPage> Open(string path)
    {
        var page = await chromium.NewPageAsync(_errors);
        await page.GotoAsync(new Uri(path).AbsoluteUri);
        await page.WaitForFunctionAsync("() => window.trigramlens && window.trigramlens.ready");
        return page;
    }

    /// <summary>C#: the transcoder's activations on a sequence's hook_in, [pos][feature].</summary>
    double[][] Activations(TranscoderReport t, long[] tokens)
    {
        using var scope = NewDisposeScope();
        var (_, cache) = _model.RunWithCache(tensor(tokens).view(1, -1), t.HookIn);
        using (cache)
        {
            var f = t.Transcoder.Encode(cache[t.HookIn][0]).to(ScalarType.Float64);
            return Enumerable.Range(0, tokens.Length).Select(p => f[p].data<double>().ToArray()).ToArray();
        }
    }

    [BrowserFact]
    public async Task The_pages_encoder_equals_the_CSharp_one_for_every_architecture()
    {
        long[] tokens = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];
        foreach (string architecture in TranscoderConfig.Architectures)
        {
            var transcoder = Synthetic(architecture);
            var (path, _) = Report(transcoder);
            var page = await Open(path);
            await page.EvaluateAsync("t => trigramlens.setInput(t)", tokens);
            var acts = await page.EvaluateAsync<double[][]>(
                "() => trigramlens.transcoder.tc.activations(trigramlens.live.lastRun).map(a => Array.from(a))");
            var expected = Activations(transcoder, tokens);
            double worst = expected.Zip(acts).Max(p => p.First.Zip(p.Second).Max(x => Math.Abs(x.First - x.Second)));
            Assert.True(worst < 1e-4, $"{architecture}: page activations differ from C# by {worst:E2}");
            Assert.True(expected.Sum(r => r.Count(v => v > 0)) > 0, $"{architecture}: the synthetic transcoder never fires");
            if (architecture.StartsWith("topk")) Assert.All(acts, a => Assert.True(a.Count(v => v > 0) <= 4));
            output.WriteLine($"{architecture}: page vs C# activations {worst:E1}");
            await page.CloseAsync();
        }
        Assert.Empty(_errors);
        Assert.Empty(chromium.BlockedRequests);
    }

    /// <summary>C#: logit effects, de-embedding and head-0 pull-back of one feature (synchronous: no scope across an await).</summary>
    (double[] logit, double[] deEmbedding, double[] pullBack) Effects(TranscoderReport t, int feature)
    {
        using var scope = NewDisposeScope();
        var f = t.Transcoder.W_enc[.., feature];
        double[] D(Tensor x) => x.to(ScalarType.Float64).data<double>().ToArray();
        return (D(matmul(t.Transcoder.W_dec[feature], _model.W_U)), D(matmul(_model.W_E, f)),
            D(matmul(_model.W_E, matmul(_model.W_V[0, 0], matmul(_model.W_O[0, 0], f)))));
    }

    [BrowserFact]
    public async Task The_dashboard_sorts_features_and_shows_each_ones_numbers()
    {
        var transcoder = Synthetic("jumprelu_transcoder");
        var trigram = TrigramDataset.Generate(TrigramDataConfig.Arena, 0).Trigrams.Trigrams[0];
        const int dedicatedFeature = 5;
        IReadOnlyList<TranscoderFeature> stats = [];
        // The statistics as computed over the analysis set, with one feature marked dedicated so the sort has one to find.
        var (path, inputs) = Report(transcoder, i =>
        {
            stats = TranscoderFeatureStats.Compute(transcoder, i)
                .Select(f => f.Index == dedicatedFeature ? f with { DedicatedTrigram = [trigram.A, trigram.B, trigram.C] } : f).ToList();
            return transcoder with { Features = stats };
        });
        var page = await Open(path);

        var byDensity = stats.Where(f => f.Density > 0).OrderByDescending(f => f.Density).ThenBy(f => f.Index).Select(f => f.Index).ToArray();
        Assert.Equal(byDensity, await page.EvaluateAsync<int[]>("() => trigramlens.transcoder.order"));
        await page.Locator("#transcoder .tc-sort").SelectOptionAsync("dedicated");
        var order = await page.EvaluateAsync<int[]>("() => trigramlens.transcoder.order");
        Assert.Equal(dedicatedFeature, order[0]);
        await page.Locator($"#transcoder tr[data-feature='{dedicatedFeature}']").ClickAsync();
        string board = await page.Locator("#transcoder .tc-dashboard").InnerTextAsync();
        Assert.Contains($"Feature {dedicatedFeature}", board);
        Assert.Contains($"Dedicated trigram: ({trigram.A}, {trigram.B}, {trigram.C})", board);

        // Logit effects, de-embedding and pull-back against C#'s matrix products.
        var (logit, de, pull) = Effects(transcoder, dedicatedFeature);
        void Same(double[] expected, double[] actual) => Assert.All(expected.Zip(actual), x => Assert.Equal(x.First, x.Second, 1e-4));
        Same(logit, await page.EvaluateAsync<double[]>($"() => Array.from(trigramlens.transcoder.logitEffects({dedicatedFeature}))"));
        Same(de, await page.EvaluateAsync<double[]>($"() => Array.from(trigramlens.transcoder.deEmbedding({dedicatedFeature}))"));
        Same(pull, await page.EvaluateAsync<double[]>($"() => Array.from(trigramlens.transcoder.pullBack({dedicatedFeature})[0])"));
        int topLogit = Enumerable.Range(0, logit.Length).MaxBy(i => logit[i]);
        Assert.Contains($"{topLogit}\t{logit[topLogit].ToString("F3", C)}", board);

        // The histogram has a bar per bin; a prefix click runs it live and shows the feature's activation there.
        var feature = stats[dedicatedFeature];
        Assert.Equal(TranscoderFeatureStats.HistogramBins, await page.Locator("#transcoder .tc-hist span").CountAsync());
        Assert.NotEmpty(feature.TopPrefixes);
        var prefix = feature.TopPrefixes[0];
        await page.Locator($"#transcoder tr[data-prefix='{prefix.A},{prefix.B}']").ClickAsync();
        Assert.Equal([prefix.A, prefix.B], await page.EvaluateAsync<int[]>("() => trigramlens.state().tokens"));
        double expectedAct = Activations(transcoder, [prefix.A, prefix.B])[1][dedicatedFeature];
        Assert.Contains($"{prefix.B}: {expectedAct.ToString("F3", C)}", await page.Locator("#transcoder .tc-live").InnerTextAsync());
        Assert.True(expectedAct > 0, "the feature's top prefix activates it");

        string shot = Path.Combine(Chromium.Artifacts, "transcoder-dashboard.png");
        await page.Locator("#s9").ScreenshotAsync(new() { Path = shot });
        output.WriteLine($"screenshot: {shot}");
        Assert.Empty(_errors);
        Assert.Empty(chromium.BlockedRequests);
    }

    [BrowserFact]
    public async Task Without_a_transcoder_section_9_says_not_run_and_has_no_dashboard()
    {
        var page = await Open(Path.Combine(study.Directory, "report.html"));
        Assert.Contains("9. Sparse transcoder", await page.Locator("#s9 h2").InnerTextAsync());
        Assert.Contains("Not run", await page.Locator("#s9").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#transcoder").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => trigramlens.transcoder === undefined && typeof trigramlens.forward === 'function'"));
        Assert.Empty(_errors);
    }
}

