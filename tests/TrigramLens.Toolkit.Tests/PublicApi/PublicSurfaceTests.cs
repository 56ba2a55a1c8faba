using TrigramLens.Model;

namespace TrigramLens.Tests.PublicApi;

/// <summary>
/// The core's public types, listed in PublicTypes.txt beside this file: a type that appears or disappears fails this test
/// until the list is updated in the same change, so the surface a library user builds on changes only deliberately.
/// Benchmarks, reference steps, memory probes and runtime internals are not part of it.
/// </summary>
public sealed class PublicSurfaceTests
{
    [Fact]
    public void The_public_types_of_the_core_are_the_listed_ones()
    {
        var actual = typeof(HookedTransformer).Assembly.GetExportedTypes()
            .Select(t => t.FullName!.Replace('+', '.'))
            .Order(StringComparer.Ordinal)
            .ToList();
        string listPath = Path.Combine(AppContext.BaseDirectory, "PublicApi", "PublicTypes.txt");
        var listed = File.ReadAllLines(listPath).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var added = actual.Except(listed).ToList();
        var removed = listed.Except(actual).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            $"The core's public surface changed. New: {string.Join(", ", added)}. Gone: {string.Join(", ", removed)}. " +
            "If that is intended, update tests/TrigramLens.Toolkit.Tests/PublicApi/PublicTypes.txt.");
    }
}
