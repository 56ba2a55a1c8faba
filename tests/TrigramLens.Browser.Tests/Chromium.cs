using Microsoft.Playwright;
using TrigramLens.Testing;

namespace TrigramLens.Browser.Tests;

/// <summary>
/// One headless Debian chromium per test class (a class fixture), driven by Playwright, with a fresh profile and the
/// flags this closed network needs (without the background-networking ones Chromium's own connections are refused and
/// it stalls). Playwright's browser download cannot work here, so it runs <see cref="ExecutablePath"/>. Pages may load
/// only <c>file:</c> and <c>data:</c> URLs; any other request is aborted and recorded in <see cref="BlockedRequests"/>.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    static readonly string[] Flags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    IPlaywright? _playwright;
    IBrowserContext? _context;
    readonly string _profile = Directory.CreateTempSubdirectory("trigramlens-chromium-").FullName;

    public List<string> BlockedRequests { get; } = [];

    /// <summary>Where tests keep screenshots: <c>artifacts/</c> in the test output folder.</summary>
    public static string Artifacts { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    public static bool Available => File.Exists(ExecutablePath);

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>A new tab (the browser starts with the first one); page errors and console errors go to <paramref name="errors"/>.</summary>
    public async Task<IPage> NewPageAsync(List<string> errors)
    {
        if (!Available) throw new FileNotFoundException($"{ExecutablePath} is missing: install Debian's chromium (apt-get install chromium)");
        if (_context is null)
        {
            _playwright = await Playwright.CreateAsync();
            _context = await _playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ExecutablePath, Headless = true, Args = Flags,
                ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            });
            await _context.RouteAsync(url => !url.StartsWith("file:", StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal),
                async route =>
                {
                    lock (BlockedRequests) BlockedRequests.Add(route.Request.Url);
                    await route.AbortAsync();
                });
        }
        var page = await _context.NewPageAsync();
        page.PageError += (_, e) => { lock (errors) errors.Add("page error: " + e); };
        page.Console += (_, m) => { if (m.Type == "error") lock (errors) errors.Add("console error: " + m.Text); };
        return page;
    }

    public async Task DisposeAsync()
    {
        if (_context is not null) await _context.CloseAsync();
        _playwright?.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { }   // chromium may still be letting go of it
    }
}

/// <summary>
/// A fact that needs a browser: without <see cref="Chromium.ExecutablePath"/> it is skipped with the reason shown, except
/// under CI (<c>CI=true</c>), where it runs and fails, so CI can never pass without having run the browser tests.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!Chromium.Available && !ReferenceData.IsCi)
            Skip = $"no browser at {Chromium.ExecutablePath} (apt-get install chromium; .ci/run does)";
    }
}

/// <summary>A browser fact that also needs ARENA's checkpoint (skipped without it outside CI, failing under CI).</summary>
public sealed class ArenaBrowserFactAttribute : FactAttribute
{
    public ArenaBrowserFactAttribute()
    {
        if (!ReferenceData.IsCi && !Chromium.Available) Skip = $"no browser at {Chromium.ExecutablePath} (apt-get install chromium; .ci/run does)";
        else if (!ReferenceData.IsCi && !File.Exists(ReferenceData.ArenaCheckpoint))
            Skip = $"ARENA's checkpoint is not at {ReferenceData.ArenaCheckpoint} (see README: reference data)";
    }
}
