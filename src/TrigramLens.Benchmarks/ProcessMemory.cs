namespace TrigramLens.Benchmarks;

/// <summary>The process's resident memory, native allocations (libtorch's) included.</summary>
public static class ProcessMemory
{
    /// <summary>Resident set size in bytes: <c>VmRSS</c> from <c>/proc/self/status</c> on Linux, else the working set.</summary>
    public static long ResidentBytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (var line in File.ReadLines(status))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kilobytes, System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
