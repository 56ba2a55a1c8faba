using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;

namespace TrigramLens.Browser.Tests.Trigrams.Study.Report;

/// <summary>The study of an untrained model of the challenge's shape on a 40-row analysis set, run once per test class.</summary>
public sealed class TinyStudy : IDisposable
{
    public const int Rows = 40;
    readonly Lazy<(string dir, HookedTransformer model, StudyResults results, TrigramDataset analysis)> _state = new(() =>
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("trigramlens-tiny-study-").FullName;
        var model = new HookedTransformer(TinyModels.Arena(seed: 6));
        var results = TrigramStudy.Run(model, "tiny", new StudyOptions { OutputDirectory = dir, AnalysisSize = Rows, Rows = 1, JacobianCheckRows = 1 });
        return (dir, model, results, TrigramDataset.Generate(TrigramDataConfig.Arena with { Seed = 40 }, Rows));
    });

    public string Directory => _state.Value.dir;
    public HookedTransformer Model => _state.Value.model;
    public StudyResults Results => _state.Value.results;
    public TrigramDataset Analysis => _state.Value.analysis;

    public void Dispose()
    {
        if (!_state.IsValueCreated) return;
        _state.Value.model.Dispose();
        _state.Value.analysis.Dispose();
        System.IO.Directory.Delete(_state.Value.dir, recursive: true);
    }
}
