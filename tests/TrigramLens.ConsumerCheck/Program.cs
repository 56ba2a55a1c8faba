using System.Text.Json;
using TrigramLens.Analysis;
using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Runtime;
using TrigramLens.Training;
using static TorchSharp.torch;

// Prints one JSON object: what the process looked like before and after using the library, and whether the logits of
// Forward, RunWithCache and RunWithHooks (a no-op hook) were bit-identical. Exit code 0 only if nothing changed.

var before = ProcessState.Read();
var problems = new List<string>();

foreach (var (name, cfg) in new[]
{
    ("trigram", new HookedTransformerConfig(1, 32, 50, 16, 75, n_heads: 1, d_mlp: 20, normalization_type: NormalizationType.None,
        use_attn_result: true, use_split_qkv_input: true, use_hook_tokens: true, seed: 40)),
    ("deep", new HookedTransformerConfig(2, 12, 9, 4, 11, n_heads: 3, d_mlp: 16, act_fn: ActivationFunction.Gelu, seed: 7)),
})
{
    using var model = new HookedTransformer(cfg);
    using var g = new Generator(5);
    var tokens = randint(0, cfg.d_vocab, [6, cfg.n_ctx], generator: g);
    using var _ = no_grad();
    var forward = model.call(tokens);
    var (cached, cache) = model.RunWithCache(tokens);
    cache.Dispose();
    var hooked = model.RunWithHooks(tokens, ("blocks.0.attn.hook_pattern", (_, _) => null), ("blocks.0.hook_resid_mid", (_, _) => null));
    if (!forward.Equals(cached)) problems.Add($"{name}: RunWithCache logits differ from Forward");
    if (!forward.Equals(hooked)) problems.Add($"{name}: RunWithHooks (no-op hooks) logits differ from Forward");
    if (cfg.normalization_type == NormalizationType.None)
    {
        QkScores.TokenOnly(model, tokens[0], 0, 0, causal: true);
        MlpJacobian.ClosedForm(model, 0, model.W_E[..5]);
        MlpJacobian.ViaHooks(model, tokens[..1], 0);
        PrincipalAngles.WriteReadCosines(model.W_O[0, 0], model.W_in[0]);
    }
}

// Training, as a library user runs it: the toolkit's trainer on the caller's thread, then the opt-in dedicated thread.
{
    var cfg = new HookedTransformerConfig(1, 16, 8, 8, 11, n_heads: 2, d_mlp: 8, normalization_type: NormalizationType.None, seed: 3);
    using var model = new HookedTransformer(cfg);
    using var g = new Generator(9);
    var tokens = randint(0, cfg.d_vocab, [32, cfg.n_ctx], generator: g);
    var options = new TrainerOptions { Epochs = 1, BatchSize = 8, Schedule = new WarmupCosineSchedule(1e-3, 1, 0.1), Shards = 2 };
    using (var trainer = new Trainer(model, tokens, options, threads: 2)) trainer.RunEpoch();
    TorchThread.Run(new TorchThreadSettings(Threads: 1, FlushDenormals: true), () =>
    {
        using var trainer = new Trainer(model, tokens, options with { Shards = 1 });
        return trainer.RunEpoch();
    });
}

var after = ProcessState.Read();
if (before != after) problems.Add($"process state changed: before {before}, after {after}");
Console.Out.WriteLine(JsonSerializer.Serialize(new
{
    before = before.ToString(), after = after.ToString(), problems,
    vector256 = System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated,
}));
return problems.Count == 0 ? 0 : 1;

/// <summary>What a host would notice: its console writers, libtorch's thread count, denormal handling (on this thread
/// and on a thread started now), and MKL's kernel choice.</summary>
sealed record ProcessState(TextWriter Out, TextWriter Error, int Threads, float DenormalHere, float DenormalNewThread, string MatrixKernels)
{
    public static ProcessState Read()
    {
        float fresh = float.NaN;
        var thread = new Thread(() => fresh = Denormal());
        thread.Start();
        thread.Join();
        return new ProcessState(Console.Out, Console.Error, get_num_threads(), Denormal(), fresh, TorchRuntime.MatrixKernels);
    }

    /// <summary>1e-40 × 0.5 in libtorch: 5e-41 unless denormals are flushed to zero.</summary>
    static float Denormal()
    {
        using var a = tensor(new[] { 1e-40f });
        using var b = tensor(new[] { 0.5f });
        using var product = a * b;
        return product.item<float>();
    }

    public override string ToString() =>
        $"{{out {Out.GetHashCode()}, error {Error.GetHashCode()}, threads {Threads}, denormal {DenormalHere:G3} (new thread {DenormalNewThread:G3}), {MatrixKernels}}}";
}
