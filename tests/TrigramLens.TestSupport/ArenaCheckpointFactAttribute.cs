using Xunit;

namespace TrigramLens.Testing;

/// <summary>
/// A fact that needs ARENA's checkpoint. In a clone without <c>../shared/arena-trigrams/</c> it is skipped with the
/// reason shown; under CI (<c>CI=true</c>) it runs regardless, and the test fails on the missing file.
/// </summary>
public sealed class ArenaCheckpointFactAttribute : FactAttribute
{
    public ArenaCheckpointFactAttribute()
    {
        if (!File.Exists(ReferenceData.ArenaCheckpoint) && !ReferenceData.IsCi)
            Skip = $"ARENA's checkpoint is not at {ReferenceData.ArenaCheckpoint} (see README: reference data)";
    }
}
