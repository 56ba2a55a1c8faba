using System.Diagnostics;
using System.Text.Json;
using TrigramLens.Testing;

namespace TrigramLens.Tests.Runtime;

/// <summary>
/// The library as a host program meets it (tests/TrigramLens.ConsumerCheck, a fresh process that references only the
/// core): using models, hooks, analyses and the trainer leaves the console writers, libtorch's thread count, denormal
/// handling and MKL's kernel choice as they were, and hooks never change the logits.
/// </summary>
public sealed class LibraryHostTests
{
    // The second run hides the CPU's 256-bit vectors from .NET (DOTNET_EnableAVX=0), as on a machine without them: the
    // trainer's kernels must step aside for libtorch's operations rather than fail or assume them.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Using_the_core_changes_nothing_process_wide_and_hooks_change_no_logits(bool without256BitVectors)
    {
        // The test's own build folder is .../tests/<project>/bin/<configuration>/<framework>/; the host's is its sibling.
        var build = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string host = Path.Combine(ReferenceData.RepositoryRoot, "tests", "TrigramLens.ConsumerCheck", "bin", build.Parent!.Name, build.Name,
            "TrigramLens.ConsumerCheck.dll");
        Assert.True(File.Exists(host), $"{host} was not built");

        var start = new ProcessStartInfo("dotnet", [host]) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (without256BitVectors) start.Environment["DOTNET_EnableAVX"] = "0";
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "the host did not finish in 2 minutes");

        Assert.True(stdout.Length > 0, $"no output (exit {process.ExitCode}): {stderr}");
        var report = JsonDocument.Parse(stdout).RootElement;
        var problems = report.GetProperty("problems").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.True(problems.Count == 0, string.Join("; ", problems));
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("denormal 5E-41 (new thread 5E-41)", report.GetProperty("after").GetString());
        Assert.Equal(!without256BitVectors, report.GetProperty("vector256").GetBoolean());
    }
}
