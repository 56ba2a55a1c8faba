using System.Runtime.CompilerServices;
using Xunit;

namespace TrigramLens.Testing;

/// <summary>
/// A fact that needs ARENA's checkpoint. In a clone without <c>../shared/arena-trigrams/</c> it is skipped, and its name
/// in the test summary says so and why (the test runner prints a skipped test's name, not its reason, at its default
/// verbosity); under CI (<c>CI=true</c>) it runs regardless, and the test fails on the missing file.
/// </summary>
public sealed class ArenaCheckpointFactAttribute : FactAttribute
{
    public ArenaCheckpointFactAttribute([CallerMemberName] string test = "")
    {
        if (File.Exists(ReferenceData.ArenaCheckpoint) || ReferenceData.IsCi) return;
        Skip = $"ARENA's checkpoint is not at {ReferenceData.ArenaCheckpoint} (README: Reference data)";
        DisplayName = $"{test} [skipped: {Skip}]";
    }
}
