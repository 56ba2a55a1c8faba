using TrigramLens.Web;

namespace TrigramLens.Trigrams.Study.Report;

/// <summary>The report page's own scripts and styles (files beside this one, embedded in the assembly), in load order.</summary>
public static class StudyPageAssets
{
    public static readonly IReadOnlyList<string> Scripts =
        ["sequence-view.js", "row-browser.js", "live-model.js", "token-pairs.js", "transcoder.js", "study-page.js"];

    public static readonly IReadOnlyList<string> Styles = ["study-page.css"];

    public static string Read(string file) => WebAssets.Read(typeof(StudyPageAssets).Assembly, "TrigramLens.Trigrams.Report." + file);

    public static string AllScripts() => string.Join("\n", Scripts.Select(Read));

    public static string AllStyles() => string.Join("\n", Styles.Select(Read));
}
