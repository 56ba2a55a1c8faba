using System.Reflection;

namespace TrigramLens.Web;

/// <summary>
/// The scripts and styles of this project, kept as real files under <c>Scripts/</c> and <c>Styles/</c> and embedded in
/// the assembly, so a page can inline them and work from <c>file://</c> with no server and no network.
/// </summary>
public static class WebAssets
{
    /// <summary>Every script a page needs for the model and its viewers, in load order.</summary>
    public static readonly IReadOnlyList<string> Scripts = ["tensors.js", "hooked-transformer.js", "heatmap.js", "token-view.js"];

    public static readonly IReadOnlyList<string> Styles = ["web.css"];

    /// <summary>The text of one of this project's scripts or styles, e.g. <c>Read("hooked-transformer.js")</c>.</summary>
    public static string Read(string file) => Read(typeof(WebAssets).Assembly, "TrigramLens.Web." + file);

    /// <summary>All of <see cref="Scripts"/>, concatenated.</summary>
    public static string AllScripts() => string.Join("\n", Scripts.Select(Read));

    public static string AllStyles() => string.Join("\n", Styles.Select(Read));

    /// <summary>An embedded text resource of <paramref name="assembly"/> by its logical name.</summary>
    public static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new FileNotFoundException($"no embedded resource '{resource}' in {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
