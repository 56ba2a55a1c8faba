using System.Text.Json;
using TrigramLens.Checkpoints;
using TrigramLens.Trigrams.Training;
using TrigramLens.Model;
using TrigramLens.Testing;
using TrigramLens.Trigrams.Study;

namespace TrigramLens.Trigrams.Tests.Study;

/// <summary>The whole study of ARENA's checkpoint against every number the published investigation reports.</summary>
public sealed class TrigramStudyTests() : TempDirectoryTests("trigramlens-study-")
{
    [ArenaCheckpointFact]
    public void Study_of_ARENAs_checkpoint_reproduces_the_published_numbers_and_writes_its_report()
    {
        using var model = ModelCheckpoint.Load(ReferenceData.RequireArenaCheckpoint(), TrigramModelConfig.CheckpointOptions);
        var stages = new List<StudyStage>();
        var r = TrigramStudy.Run(model, "arena", new StudyOptions { OutputDirectory = Dir, Rows = 1 }, stages.Add);

        // Will Snell, "Trigrams" (2024-12-04): accuracies as fractions of 277.
        Assert.Equal(266, r.Metrics.TrigramAccuracy.Correct);            // 0.9602888086642599
        Assert.Equal(219, r.SimplifiedModel.Accuracy.Correct);           // 0.7906137184115524
        Assert.Equal(50, r.DirectLogitAttribution.ResidMid.Correct);     // 0.18050541516245489
        Assert.Equal(69, r.DirectLogitAttribution.ResidMidWithMeanAblatedMlp.Correct);   // 0.2490974729241877
        Assert.Equal(86, r.MlpJacobian.LinearisedAccuracy.Correct);      // 0.3104693140794224
        Assert.All(new[] { r.Metrics.TrigramAccuracy, r.SimplifiedModel.Accuracy, r.MlpJacobian.LinearisedAccuracy }, a => Assert.Equal(277, a.Total));

        // The post's list of simplified-model misses with the full model's attention at position 1.
        Assert.Equal(58, r.SimplifiedModel.Misses.Count);
        var missed = r.SimplifiedModel.Misses.ToDictionary(m => (m.A, m.B, m.C));
        Assert.Equal(0.756, missed[(7, 42, 17)].AttentionToPrevious, 3);
        Assert.Equal(0.687, missed[(59, 13, 73)].AttentionToPrevious, 3);
        Assert.Equal(0.680, missed[(47, 13, 18)].AttentionToPrevious, 3);
        Assert.Equal(0.998, missed[(23, 46, 4)].AttentionToCurrent, 3);
        Assert.Contains((72, 72, 48), missed.Keys);
        Assert.Contains((39, 12, 73), missed.Keys);

        // The post's principal-angle cosines between W_O and W_in.
        double[] published = [1.0000001192092896, 1.0, 0.9999998807907104, 0.9999998807907104, 0.9893388152122498, 0.9778618216514587,
            0.9700286984443665, 0.9570831656455994, 0.8961935639381409, 0.8844886422157288, 0.7993403673171997, 0.745817244052887,
            0.7342832088470459, 0.5622190237045288, 0.35370132327079773, 0.18341064453125];
        Assert.Equal(published.Length, r.PrincipalAngles.Cosines.Length);
        for (int i = 0; i < published.Length; i++) Assert.Equal(published[i], r.PrincipalAngles.Cosines[i], 4);

        // Positional-only scores (plain recomputation in PositionalPreferenceTests): 48 of 49 queries prefer themselves.
        Assert.Equal((48L, 1L, 49L), (r.Qk.PositionalPrefersCurrent.K, r.Qk.PositionalPrefersPrevious.K, r.Qk.PositionalPrefersCurrent.N));
        Assert.Equal(14.63, r.Qk.PositionalCurrentOverPrevious, 2);

        // ARENA's notebook, run by a participant: 5390 of 5629 in-data trigram completions predicted.
        Assert.Equal((5390, 5629), (r.Attention.InContextCompletions.K, r.Attention.InContextCompletions.N));
        Assert.True(r.MlpJacobian.AutogradCheck.MaxAbsDifference < 1e-5);
        Assert.Equal(2500L * 50, r.MlpJacobian.Positions);
        Assert.Equal(32, r.ResidualVariance.Variance.Length);

        // Files: every figure, the JSON (parseable, stable keys) and the report.
        // Every stage reported once, in order, each knowing how many there are.
        Assert.Equal(Enumerable.Range(1, stages.Count), stages.Select(st => st.Index));
        Assert.All(stages, st => Assert.Equal(stages.Count, st.Count));
        Assert.All(r.Figures, f => Assert.True(new FileInfo(Path.Combine(Dir, f.File)).Length > 5_000, f.File));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "results.json")));
        Assert.Equal(86, json.RootElement.GetProperty("mlp_jacobian").GetProperty("linearised_accuracy").GetProperty("correct").GetInt32());
        Assert.Equal(58, json.RootElement.GetProperty("simplified_model").GetProperty("misses").GetArrayLength());
        string html = File.ReadAllText(Path.Combine(Dir, "report.html"));
        foreach (var f in r.Figures) Assert.Contains($"src=\"{f.File}\"", html);
        Assert.Contains("219 / 277", html);
    }

    [Fact]
    public void Models_of_another_shape_are_refused_with_a_reason()
    {
        var deep = TinyModels.Deep(norm: NormalizationType.None);
        Assert.Contains("1-layer", Assert.Throws<ArgumentException>(() => TrigramStudy.EnsureSupported(deep)).Message);
        var ln = new HookedTransformerConfig(n_layers: 1, d_model: 8, n_ctx: 5, d_head: 4, d_vocab: 6);
        Assert.Contains("LayerNorm", Assert.Throws<ArgumentException>(() => TrigramStudy.EnsureSupported(ln)).Message);
    }

    [Fact]
    public void A_failed_run_leaves_the_previous_study_untouched_and_a_new_one_drops_stale_figures()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 2));
        StudyOptions Options(int rows) => new() { OutputDirectory = Dir, AnalysisSize = 12, Rows = rows, JacobianCheckRows = 1 };
        TrigramStudy.Run(model, "first", Options(2));
        Assert.True(File.Exists(Path.Combine(Dir, "attention-row1.png")));
        string before = File.ReadAllText(Path.Combine(Dir, "results.json"));

        Assert.Throws<InvalidOperationException>(() =>
            TrigramStudy.Run(model, "failing", Options(1), stage => { if (stage.Index == 5) throw new InvalidOperationException("crash"); }));
        Assert.Equal(before, File.ReadAllText(Path.Combine(Dir, "results.json")));
        Assert.True(File.Exists(Path.Combine(Dir, "attention-row1.png")));
        Assert.Empty(Directory.GetDirectories(Dir));

        TrigramStudy.Run(model, "second", Options(1));
        Assert.False(File.Exists(Path.Combine(Dir, "attention-row1.png")));
        Assert.True(File.Exists(Path.Combine(Dir, "attention-row0.png")));
        Assert.Contains("second", File.ReadAllText(Path.Combine(Dir, "results.json")));
    }

    [Fact]
    public void Default_prefixes_that_do_not_fit_a_small_vocabulary_are_skipped_and_bad_extra_ones_refused()
    {
        var small = new HookedTransformerConfig(n_layers: 1, d_model: 8, n_ctx: 10, d_head: 4, d_vocab: 60, d_mlp: 8, normalization_type: NormalizationType.None);
        var options = new StudyOptions { ExtraPrefixes = [[3, 4], [3, 4]] };
        var resolved = options.ResolvePrefixes(small);
        Assert.DoesNotContain(resolved, p => p.Any(t => t >= 60));
        Assert.Contains(resolved, p => p.SequenceEqual([54, 54]));
        Assert.Single(resolved, p => p.SequenceEqual([3, 4]));
        var bad = new StudyOptions { ExtraPrefixes = [[3, 99]] };
        Assert.Contains("3,99", Assert.Throws<ArgumentException>(() => bad.ResolvePrefixes(small)).Message);
    }

    [Fact]
    public void Study_runs_on_an_untrained_model_of_the_challenge_shape()
    {
        using var model = new HookedTransformer(TinyModels.Arena(seed: 1));
        var r = TrigramStudy.Run(model, "random", new StudyOptions { OutputDirectory = Dir, AnalysisSize = 20, Rows = 1, ExtraRows = [17], JacobianCheckRows = 2, ExtraPrefixes = [[3, 4, 5]] });
        Assert.Equal([0, 17], r.Attention.Rows);
        Assert.True(File.Exists(Path.Combine(Dir, "attention-row17.png")));
        Assert.Equal(StudyOptions.DefaultPrefixes.Count + 1, r.PredictionDistributions.Count);
        Assert.Equal(20L * 50, r.MlpJacobian.Positions);
        Assert.True(File.Exists(Path.Combine(Dir, "prediction-3-4-5.png")));

        // Each Frobenius norm is that of its own reported matrix, summed by hand (the study uses linalg.matrix_norm); the
        // two differ, so a swap of the two (the mutation check's mutant 32) fails.
        static double Frobenius(float[][] m) => Math.Sqrt(m.Sum(row => row.Sum(v => (double)v * v)));
        double mean = Frobenius(r.MlpJacobian.Mean), median = Frobenius(r.MlpJacobian.Median);
        Assert.True(Math.Abs(mean - median) > 1e-3 * mean, $"the mean and median Jacobians' norms are too close ({mean}, {median}) to tell apart");
        Assert.Equal(mean, r.MlpJacobian.MeanFrobeniusNorm, 1e-5 * mean);
        Assert.Equal(median, r.MlpJacobian.MedianFrobeniusNorm, 1e-5 * median);

        // Every key of results.json (to the second level) is documented in docs/results.md.
        string docs = File.ReadAllText(Path.Combine(ReferenceData.RepositoryRoot, "docs", "results.md"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "results.json")));
        foreach (var section in json.RootElement.EnumerateObject())
        {
            Assert.Contains(section.Name, docs);
            if (section.Value.ValueKind != JsonValueKind.Object || section.Name is "model" or "stage_seconds") continue;
            foreach (var key in section.Value.EnumerateObject()) Assert.Contains(key.Name, docs);
        }
    }
}
