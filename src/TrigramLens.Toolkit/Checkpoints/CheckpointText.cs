namespace TrigramLens.Checkpoints;

/// <summary>Text from a damaged file or a library's exception, made fit for a one-line error message.</summary>
public static class CheckpointText
{
    /// <summary>A name or JSON fragment from a file: control characters replaced, at most <paramref name="max"/> characters.</summary>
    public static string Shorten(string text, int max = 60)
    {
        var clean = new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return clean.Length <= max ? clean : clean[..(max - 3)] + "...";
    }

    /// <summary>The first line of an exception message, trimmed, cleaned and at most 160 characters (parsers quote their input).</summary>
    public static string FirstLine(string message) => Shorten(message.Split(['\n', '\r'], 2)[0].Trim(), 160);
}
