namespace TrigramLens.Testing;

/// <summary>Base of test classes that write files: every test (xunit makes one instance per test) gets its own fresh
/// temporary folder, <see cref="Dir"/>, deleted with everything in it after the test.</summary>
public abstract class TempDirectoryTests(string prefix) : IDisposable
{
    protected string Dir { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
