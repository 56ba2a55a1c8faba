namespace TrigramLens.Testing;

/// <summary>Where the reference data lives: ARENA's checkpoint sits beside the repository, never inside it.</summary>
public static class ReferenceData
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary><c>../shared/arena-trigrams/trigram_model.pt</c> relative to the repository root.</summary>
    public static string ArenaCheckpoint { get; } =
        Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "arena-trigrams", "trigram_model.pt"));

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The checkpoint's path; under CI its absence fails the test instead of skipping it.</summary>
    public static string RequireArenaCheckpoint() => File.Exists(ArenaCheckpoint)
        ? ArenaCheckpoint
        : throw new FileNotFoundException($"CI=true but ARENA's checkpoint is missing at {ArenaCheckpoint}");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TrigramLens.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"No TrigramLens.slnx above {AppContext.BaseDirectory}");
    }
}
