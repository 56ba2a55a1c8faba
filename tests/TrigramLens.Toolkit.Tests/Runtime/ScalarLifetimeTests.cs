using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Runtime;

/// <summary>
/// A TorchSharp <c>Scalar</c> made by an implicit conversion is unreachable once its handle is passed to libtorch, so a
/// garbage collection during the call can free it while libtorch reads it: the study's intermittent
/// "Expected false to be true" from <c>c10::Scalar::toFloat</c> (3 of ~20 runs at the token-QK stage). With implicit
/// scalars, the stress loop below failed 28 times in 200,000 calls (docs/reliability.md); every call now holds its
/// scalars.
/// </summary>
[Collection(nameof(GarbageCollectionPressure))]
public sealed class ScalarLifetimeTests
{
    [Fact]
    public void No_call_in_the_toolkit_hands_libtorch_a_temporary_scalar() =>
        ScalarLifetimeScan.AssertNone(typeof(HookedTransformer).Assembly);

    // The tests too: they run in parallel and allocate a lot, so a temporary scalar could crash the test host (see Held).
    [Fact]
    public void No_call_in_these_tests_hands_libtorch_a_temporary_scalar() =>
        ScalarLifetimeScan.AssertNone(typeof(ScalarLifetimeTests).Assembly);

    // The scan reads the compiled IL; a call it would miss must still not crash under pressure. Before the fix this loop
    // failed about once in 500 calls (107 of 50,000, "INTERNAL ASSERT FAILED at c10/core/Scalar.h").
    [Fact]
    public void Scalar_taking_paths_survive_ten_thousand_calls_under_constant_garbage_collection()
    {
        using var model = new HookedTransformer(TinyModels.Arena());
        using var deep = new HookedTransformer(TinyModels.Deep());                                    // LayerNorm's eps
        using var gelu = new HookedTransformer(TinyModels.Deep(norm: NormalizationType.None));         // GELU slopes
        using var g = new Generator(1);
        var tokens = randint(0, 75, [50], generator: g);
        var deepTokens = randint(0, 11, [2, 9], generator: g);
        using var _ = no_grad();
        var expected = QkScores.TokenOnly(model, tokens, 0, 0, causal: true);

        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        int failures = 0, wrong = 0;
        string? first = null;
        try
        {
            for (int i = 0; i < 10_000; i++)
            {
                using var scope = NewDisposeScope();
                try
                {
                    if (!QkScores.TokenOnly(model, tokens, 0, 0, causal: true).Equals(expected)) wrong++;
                    if (i % 10 == 0)
                    {
                        deep.call(deepTokens);
                        MlpJacobian.Slopes(gelu, 0, gelu.W_E);
                    }
                }
                catch (Exception e)
                {
                    failures++;
                    first ??= $"call {i}: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
        Assert.True(failures == 0, $"{failures} of 10,000 calls failed; first: {first}");
        Assert.Equal(0, wrong);
    }
}

/// <summary>Forced garbage collections slow every test running beside them: this collection runs alone.</summary>
[CollectionDefinition(nameof(GarbageCollectionPressure), DisableParallelization = true)]
public sealed class GarbageCollectionPressure;
