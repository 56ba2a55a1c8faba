using System.Diagnostics;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using static TorchSharp.torch;

namespace TrigramLens.Browser.Tests.Trigrams.Study.Report;

/// <summary>
/// The whole study of ARENA's checkpoint, run once per test class into a temporary folder (first use, so a skipped
/// class costs nothing): its report.html with the full 2,500-row analysis set, the model, and the analysis set to
/// check the page against.
/// </summary>
public sealed class ArenaStudy : IDisposable
{
    readonly Lazy<State> _state = new(Create);

    sealed record State(string Directory, HookedTransformer Model, HookedTransformer Model64, StudyResults Results, TrigramDataset Analysis,
        double StudySeconds);

    static State Create()
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("trigramlens-report-").FullName;
        var model = ModelCheckpoint.Load(ReferenceData.RequireArenaCheckpoint(), TrigramLens.Trigrams.Training.TrigramModelConfig.CheckpointOptions);
        var clock = Stopwatch.StartNew();
        var results = TrigramStudy.Run(model, "arena", new StudyOptions { OutputDirectory = dir, Rows = 1 });
        double seconds = clock.Elapsed.TotalSeconds;
        var analysis = TrigramDataset.Generate(TrigramDataConfig.Arena with { Seed = 40 }, 2500);
        return new State(dir, model, ReferenceModels.InFloat64(model), results, analysis, seconds);
    }

    public string Directory => _state.Value.Directory;
    public string ReportPath => Path.Combine(Directory, "report.html");
    public HookedTransformer Model => _state.Value.Model;
    public HookedTransformer Model64 => _state.Value.Model64;
    public StudyResults Results => _state.Value.Results;
    public TrigramDataset Analysis => _state.Value.Analysis;
    public double StudySeconds => _state.Value.StudySeconds;

    public long[] Row(int row) => Analysis.Tokens[row].data<long>().ToArray();

    public void Dispose()
    {
        if (!_state.IsValueCreated) return;
        var s = _state.Value;
        s.Model.Dispose();
        s.Model64.Dispose();
        s.Analysis.Dispose();
        System.IO.Directory.Delete(s.Directory, recursive: true);
    }
}
