using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Web;
using static TorchSharp.torch;

namespace TrigramLens.Browser.Tests.Web;

/// <summary>The C# side of the page's model: what is exported, bit for bit, and the size cap.</summary>
public sealed class ModelExportTests
{
    [Fact]
    public void Every_parameter_is_exported_under_its_TransformerLens_name_exactly()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        var export = ModelExport.Export(model);
        var weights = export.Json!["weights"]!.AsObject();
        var parameters = model.named_parameters().ToList();
        Assert.Equal(parameters.Select(p => p.name).Order(), weights.Select(w => w.Key).Order());
        Assert.Contains("blocks.1.ln2.w", weights.Select(w => w.Key));
        foreach (var (name, parameter) in parameters)
        {
            var (values, shape) = TensorJson.ReadFloat32(weights[name]!);
            Assert.Equal(parameter.shape, shape);
            Assert.Equal(parameter.contiguous().data<float>().ToArray(), values);
        }
        Assert.Equal(parameters.Sum(p => p.parameter.numel()), export.Parameters);
        Assert.Equal("gelu", export.Json["config"]!["act_fn"]!.GetValue<string>());
    }

    [Fact]
    public void A_model_over_the_cap_is_not_embedded_and_says_why()
    {
        using var model = new HookedTransformer(TinyModels.Deep());
        var export = ModelExport.Export(model, maxParameters: 100);
        Assert.False(export.Embedded);
        Assert.Null(export.Json);
        Assert.Contains($"{export.Parameters:N0} parameters", export.Reason);
        Assert.Contains("100", export.Reason);
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelExport.Export(model, 0));
    }

    [Fact]
    public void Embedded_json_cannot_close_its_script_element()
    {
        var json = new System.Text.Json.Nodes.JsonObject { ["text"] = "</script><script>alert(1)</script><!--" };
        string html = HtmlEmbedding.JsonScript("data", json);
        Assert.Equal(1, CountOf(html, "</script"));
        Assert.EndsWith("</script>", html);
        Assert.DoesNotContain("<!--", html);
        Assert.Throws<ArgumentException>(() => HtmlEmbedding.Script("var s = '</script>';"));
    }

    static int CountOf(string s, string what) => (s.Length - s.Replace(what, "", StringComparison.OrdinalIgnoreCase).Length) / what.Length;
}
