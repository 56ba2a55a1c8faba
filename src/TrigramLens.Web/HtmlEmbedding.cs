using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrigramLens.Web;

/// <summary>Data and code placed inside an HTML page so that no text in them can end the element early.</summary>
public static class HtmlEmbedding
{
    static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    /// <summary>
    /// <c>&lt;script type="application/json" id="…"&gt;</c> holding <paramref name="json"/>; the page reads it with
    /// <c>JSON.parse(document.getElementById(id).textContent)</c>. <c>&lt;</c> is written as <c>\u003C</c>, which JSON
    /// reads back as the same character, so neither <c>&lt;/script&gt;</c> nor <c>&lt;!--</c> can occur inside.
    /// </summary>
    public static string JsonScript(string id, JsonNode json) =>
        $"<script type=\"application/json\" id=\"{id}\">{Escape(json.ToJsonString(Compact))}</script>";

    /// <summary>An inline script: a literal <c>&lt;/script</c> inside it (e.g. in a string) would end it, so it is refused.</summary>
    public static string Script(string code) => code.Contains("</script", StringComparison.OrdinalIgnoreCase)
        ? throw new ArgumentException("an inline script must not contain '</script'")
        : $"<script>\n{code}\n</script>";

    public static string Style(string css) => css.Contains("</style", StringComparison.OrdinalIgnoreCase)
        ? throw new ArgumentException("an inline style must not contain '</style'")
        : $"<style>\n{css}\n</style>";

    static string Escape(string json) => json.Replace("<", "\\u003C", StringComparison.Ordinal);
}
