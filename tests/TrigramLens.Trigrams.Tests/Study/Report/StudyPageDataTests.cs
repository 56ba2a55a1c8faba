using System.Text.Json.Nodes;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Study.Report;
using TrigramLens.Web;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Study.Report;

/// <summary>The data the report embeds: tokens that decode to the analysis set, the trigrams, means, the size cap.</summary>
public sealed class StudyPageDataTests() : TempDirectoryTests("trigramlens-page-data-")
{
    [Fact]
    public void The_embedded_data_decodes_to_the_analysis_set_and_a_model_over_the_cap_is_named_not_embedded()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 2));
        var results = TrigramStudy.Run(model, "tiny", new StudyOptions { OutputDirectory = Dir, AnalysisSize = 12, Rows = 1, JacobianCheckRows = 1 });
        using var data = TrigramDataset.Generate(TrigramDataConfig.Arena, 12);
        var inputs = StudyReportInputs.From(model, data);
        var json = StudyPageData.Build(results, inputs);

        var analysis = json["analysis"]!;
        Assert.Equal(1, analysis["bytes_per_token"]!.GetValue<int>());
        var bytes = Convert.FromBase64String(analysis["tokens"]!.GetValue<string>());
        Assert.Equal(data.Tokens.data<long>().ToArray(), bytes.Select(b => (long)b).ToArray());
        Assert.Equal(data.Trigrams.Count, json["trigrams"]!.AsArray().Count);
        Assert.Equal([1, 74, 72], json["default_input"]!.AsArray().Select(t => t!.GetValue<int>()));
        var (mean, shape) = TensorJson.ReadFloat32(json["ablation_means"]!["blocks.0.hook_mlp_out"]!);
        Assert.Equal([32L], shape);
        Assert.All(results.DirectLogitAttribution.MeanMlpOut.Zip(mean), x => Assert.Equal(x.First, x.Second, 1e-5));
        Assert.Null(json["transcoder"]);

        var capped = StudyPageData.Build(results, new StudyReportInputs(model, data.Tokens, data.Trigrams) { MaxParameters = 1000 });
        Assert.Null(capped["model"]);
        Assert.Null(capped["ablation_means"]);
        Assert.Contains("more than the 1,000 a report embeds", capped["model_note"]!.GetValue<string>());
        string html = StudyReport.Render(results, new StudyReportInputs(model, data.Tokens, data.Trigrams) { MaxParameters = 1000 });
        Assert.Contains("id=\"trigramlens-data\"", html);
        Assert.Contains("<h2>9. Sparse transcoder</h2><p class=\"note not-run\">Not run", html);
    }
}
