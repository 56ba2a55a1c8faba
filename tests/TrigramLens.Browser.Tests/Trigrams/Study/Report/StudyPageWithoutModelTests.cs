using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Study.Report;

namespace TrigramLens.Browser.Tests.Trigrams.Study.Report;

/// <summary>A model over the embedding cap: the page says why nothing runs, and the static report still reads.</summary>
public sealed class StudyPageWithoutModelTests(Chromium chromium, TinyStudy study) : IClassFixture<Chromium>, IClassFixture<TinyStudy>
{
    [BrowserFact]
    public async Task A_model_over_the_cap_leaves_a_readable_report_that_says_why_nothing_runs()
    {
        var inputs = new StudyReportInputs(study.Model, study.Analysis.Tokens, study.Analysis.Trigrams) { MaxParameters = 1000 };
        string path = Path.Combine(study.Directory, "report-capped.html");
        StudyReport.Write(path, study.Results, inputs);
        var errors = new List<string>();
        var page = await chromium.NewPageAsync(errors);
        await page.GotoAsync(new Uri(path).AbsoluteUri);
        await page.WaitForFunctionAsync("() => window.trigramlens && window.trigramlens.ready");
        string live = await page.Locator("#live-model").InnerTextAsync();
        Assert.Contains("Not interactive: the model has", live);
        Assert.Contains("more than the 1,000 a report embeds", live);
        Assert.Contains("Not interactive", await page.Locator("#row-browser").InnerTextAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => trigramlens.forward === undefined"));
        Assert.Equal(study.Results.TrigramTable.Count, await page.Locator("#trigram-table tr[data-tokens]").CountAsync());
        Assert.Empty(errors);
    }
}
