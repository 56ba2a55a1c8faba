using System.Text.Json;
using TrigramLens.Checkpoints;
using TrigramLens.Figures;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Transcoders;

namespace TrigramLens.Trigrams.Tests.Transcoders;

/// <summary>The study's section 9: where its transcoder comes from, and that its numbers are the transcoder's own.</summary>
public sealed class TranscoderSectionTests() : TempDirectoryTests("trigramlens-transcoder-section-")
{
    static readonly TranscoderTrainingOptions Tiny = TranscoderRecipe.Default with { Width = 24, Steps = 3, BatchSize = 512, BufferPositions = 2048 };

    [Fact]
    public void A_transcoder_is_trained_once_kept_and_reused_for_the_same_model_file_and_options_and_its_numbers_are_its_own()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 3));
        string modelPath = Path.Combine(Dir, "m.safetensors");
        ModelCheckpoint.Save(model, modelPath);
        using var data = TrigramDataset.Generate(TrigramDataConfig.For(40, model.Cfg), 20);
        var options = new TranscoderSectionOptions(Tiny, ModelPath: modelPath, KeepDirectory: Path.Combine(Dir, "kept"));

        var (first, _) = TranscoderSection.Run(model, data, options, new FigureBatch(), Dir);
        Assert.Equal("trained", first.Source);
        Assert.Equal(Path.Combine(Dir, "kept", "m.transcoder"), first.Directory);
        Assert.NotNull(first.Training);

        // Saved against reloaded: the kept folder's transcoder, analysed directly, gives the section's numbers.
        using (var kept = TranscoderFile.Load(first.Directory!))
        {
            var direct = TrigramTranscoderAnalysis.Run(model, kept, data);
            Assert.Equal(direct.Reconstruction, first.Reconstruction);
            Assert.Equal(direct.Dedicated.TrigramsOwned, first.Dedicated.TrigramsOwned);
            Assert.Equal(direct.Spliced.Spliced.Correct, first.Spliced.Spliced.Correct);
        }

        var (second, report) = TranscoderSection.Run(model, data, options, new FigureBatch(), Dir);
        Assert.Equal("reused", second.Source);
        Assert.Null(second.Training);
        Assert.Equal(first.Reconstruction, second.Reconstruction);
        Assert.Equal(24, report.DSae);

        // Other options, or another model file, train again.
        var (third, _) = TranscoderSection.Run(model, data, options with { Training = Tiny with { Steps = 4 } }, new FigureBatch(), Dir);
        Assert.Equal("trained", third.Source);
        using (var other = new HookedTransformer(TinyModels.Arena(seed: 4))) ModelCheckpoint.Save(other, modelPath);
        var (fourth, _) = TranscoderSection.Run(model, data, options with { Training = Tiny with { Steps = 4 } }, new FigureBatch(), Dir);
        Assert.Equal("trained", fourth.Source);
    }

    [Fact]
    public void The_study_with_a_given_transcoder_writes_section_9_to_results_json_and_the_report()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 5));
        string given = Path.Combine(Dir, "given");
        using (var data = TrigramDataset.Generate(TrigramDataConfig.For(40, model.Cfg), 10))
        using (var trained = TrigramTranscoderTraining.Train(model, data.Trigrams, Tiny).Transcoder)
            TranscoderFile.Save(trained, given);

        string output = Path.Combine(Dir, "study");
        var r = TrigramStudy.Run(model, "random", new StudyOptions
        {
            OutputDirectory = output, AnalysisSize = 20, Rows = 1, JacobianCheckRows = 2, Transcoder = new TranscoderSectionOptions(TranscoderDirectory: given),
        });
        var t = Assert.IsType<TranscoderSectionResults>(r.Transcoder);
        Assert.Equal("given", t.Source);
        Assert.Contains("Sparse transcoder", r.StageSeconds.Keys);
        Assert.All(t.Figures, f => Assert.True(File.Exists(Path.Combine(output, f.File)), f.File));
        Assert.Equal(t.Figures.Select(f => f.File), r.Figures.Where(f => f.Section == "transcoder").Select(f => f.File));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var section = json.RootElement.GetProperty("transcoder");
        Assert.Equal(t.Reconstruction.Fvu, section.GetProperty("reconstruction").GetProperty("fvu").GetDouble());
        Assert.Equal(t.Dedicated.TrigramsOwned, section.GetProperty("dedicated").GetProperty("trigrams_owned").GetInt32());
        string docs = File.ReadAllText(Path.Combine(ReferenceData.RepositoryRoot, "docs", "results.md"));
        foreach (var key in section.EnumerateObject()) Assert.Contains(key.Name, docs);

        string report = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains("<h2>9. Sparse transcoder</h2>", report);
        Assert.Contains($"{t.Dedicated.TrigramsOwned} / {t.Dedicated.Trigrams}", report);
        Assert.Contains("\"dedicated_rule\"", report);
    }
}
