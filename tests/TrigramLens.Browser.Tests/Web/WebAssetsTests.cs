using TrigramLens.Testing;
using TrigramLens.Trigrams.Study.Report;
using TrigramLens.Web;

namespace TrigramLens.Browser.Tests.Web;

/// <summary>Every script and style file in the repository is one the pages inline, byte for byte.</summary>
public sealed class WebAssetsTests
{
    [Theory]
    [InlineData("src/TrigramLens.Web/Scripts", "*.js")]
    [InlineData("src/TrigramLens.Web/Styles", "*.css")]
    [InlineData("src/TrigramLens.Trigrams/Study/Report", "*.js")]
    [InlineData("src/TrigramLens.Trigrams/Study/Report", "*.css")]
    public void Every_file_is_listed_and_embedded_as_it_is(string folder, string pattern)
    {
        bool study = folder.Contains("Trigrams", StringComparison.Ordinal);
        var listed = pattern == "*.js" ? (study ? StudyPageAssets.Scripts : WebAssets.Scripts) : (study ? StudyPageAssets.Styles : WebAssets.Styles);
        var files = Directory.GetFiles(Path.Combine(ReferenceData.RepositoryRoot, folder), pattern);
        Assert.Equal(files.Select(Path.GetFileName).Order(), listed.Order());
        foreach (string file in files)
        {
            string embedded = study ? StudyPageAssets.Read(Path.GetFileName(file)) : WebAssets.Read(Path.GetFileName(file));
            Assert.Equal(File.ReadAllText(file), embedded);
        }
    }
}
