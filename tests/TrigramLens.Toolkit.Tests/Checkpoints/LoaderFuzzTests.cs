using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Tests.Model;
using TrigramLens.Tests.Runtime;
using TrigramLens.Testing;
using TrigramLens.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Checkpoints;

/// <summary>
/// Hundreds of damaged checkpoints from a fixed seed (truncations, flipped bytes, forged lengths, hostile header and
/// config values, wrong dtypes and shapes, NaN and infinite values, damaged pickles and zip entries): every read must
/// load or end in one <see cref="CheckpointException"/> line; no other exception, native crash or hang.
/// </summary>
[Collection(nameof(LibtorchThreadCount))]
public sealed class LoaderFuzzTests(ITestOutputHelper output) : TempDirectoryTests("trigramlens-fuzz-")
{
    const int Seed = 20_251_130;

    static void DisposeAll(Dictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
    }

    void Check(FuzzReport report, int inputs)
    {
        output.WriteLine(report.ToString());
        foreach (var failure in report.Failures.Take(30)) output.WriteLine(failure);
        Assert.True(report.Failures.Count == 0, $"{report}; first: {string.Join(" | ", report.Failures.Take(5))}");
        Assert.Equal(inputs, report.Inputs);
        Assert.True(report.Refused > report.Reads / 2, $"too few refusals to have tested anything: {report}");
    }

    [Fact]
    public void Three_hundred_mutated_TrigramLens_safetensors_checkpoints_load_or_end_in_one_CheckpointException()
    {
        using var model = new HookedTransformer(TinyModels.Deep(splitQkv: true, attnResult: true));
        string original = Path.Combine(Dir, "original.safetensors");
        ModelCheckpoint.Save(model, original);
        var mutator = new FileMutator(Seed);
        var bytes = File.ReadAllBytes(original);
        Check(LoaderFuzz.Run(Path.Combine(Dir, "m.safetensors"), Enumerable.Range(0, 300).Select(_ => mutator.MutateSafetensors(bytes)),
            ("ModelCheckpoint.Load", p => ModelCheckpoint.Load(p).Dispose()),
            ("SafetensorsFile.Load", p => DisposeAll(SafetensorsFile.Load(p).tensors))), 300);
    }

    [Fact]
    public void Two_hundred_mutated_TransformerLens_state_dicts_without_config_load_or_end_in_one_CheckpointException()
    {
        var mutator = new FileMutator(Seed + 1);
        var bytes = File.ReadAllBytes(Path.Combine(TransformerLensFixture.Directory, "trigram.weights.safetensors"));
        var stated = new CheckpointLoadOptions(ActFn: ActivationFunction.Relu, NormalizationType: NormalizationType.None);
        Check(LoaderFuzz.Run(Path.Combine(Dir, "tl.safetensors"), Enumerable.Range(0, 200).Select(_ => mutator.MutateSafetensors(bytes)),
            ("ModelCheckpoint.Load (stated)", p => ModelCheckpoint.Load(p, stated).Dispose()),
            ("ModelCheckpoint.Load (folded b_V)", p => ModelCheckpoint.Load(p, stated with { FoldValueBiases = true }).Dispose()),
            ("ModelCheckpoint.Load (nothing stated)", p => ModelCheckpoint.Load(p).Dispose())), 200);
    }

    [Fact]
    public void Three_hundred_mutated_PyTorch_checkpoints_load_or_end_in_one_CheckpointException()
    {
        using var fixture = new TransformerLensFixture("ln2l");
        var bytes = File.ReadAllBytes(fixture.PyTorchWeightsPath);
        var mutator = new FileMutator(Seed + 2);
        var asTl = new CheckpointLoadOptions(Config: fixture.Config);
        Check(LoaderFuzz.Run(Path.Combine(Dir, "m.pt"), Enumerable.Range(0, 300).Select(_ => mutator.MutatePyTorch(bytes)),
            ("ModelCheckpoint.Load", p => ModelCheckpoint.Load(p, asTl).Dispose()),
            ("PyTorchCheckpoint.LoadStateDict", p => DisposeAll(PyTorchCheckpoint.LoadStateDict(p)))), 300);
    }

    [Fact]
    public void Two_hundred_mutated_training_checkpoints_load_or_end_in_one_CheckpointException()
    {
        var cfg = TinyModels.Deep(norm: NormalizationType.None, act: ActivationFunction.Relu, seed: 3);
        using var g = new Generator(11);
        using var tokens = randint(0, cfg.d_vocab, [32, cfg.n_ctx], generator: g);
        var options = new TrainerOptions
        {
            Epochs = 2, BatchSize = 16, Schedule = new WarmupCosineSchedule(5e-3, 3, 0.1), WeightDecay = 1e-3, Shuffle = true, ShuffleSeed = 5,
        };
        string original = Path.Combine(Dir, "original.resume.safetensors");
        using (var model = new HookedTransformer(cfg))
        using (var trainer = new Trainer(model, tokens, options))
        {
            trainer.RunEpoch();
            TrainingCheckpoint.Save(original, trainer);
        }
        var bytes = File.ReadAllBytes(original);
        var mutator = new FileMutator(Seed + 3);
        Check(LoaderFuzz.Run(Path.Combine(Dir, "t.resume.safetensors"), Enumerable.Range(0, 200).Select(_ => mutator.MutateSafetensors(bytes)),
            ("TrainingCheckpoint.Load", p =>
            {
                using var checkpoint = TrainingCheckpoint.Load(p);
                checkpoint.Model.Dispose();
            })), 200);
    }

    [Fact]
    public void The_harness_fails_on_any_other_exception_and_on_multi_line_messages()
    {
        var inputs = new[] { ("one", new byte[] { 1 }) };
        var report = LoaderFuzz.Run(Path.Combine(Dir, "x"), inputs,
            ("index", _ => throw new IndexOutOfRangeException()),
            ("two lines", _ => throw new CheckpointException("a\nb")),
            ("clean", _ => throw new CheckpointException("one line")),
            ("fine", _ => { }));
        Assert.Equal((1, 4, 1, 1, 2), (report.Inputs, report.Reads, report.Loaded, report.Refused, report.Failures.Count));
    }
}
