using System.Text.Json;
using TrigramLens.Analysis;
using TrigramLens.Model;
using TrigramLens.Testing;
using static TorchSharp.torch;

// Calls the toolkit's scalar-taking paths (QkScores.TokenOnly's mask, LayerNorm's eps, GELU slopes) args[0] times while
// another thread forces garbage collections without pause, and prints one JSON object: calls, failures, wrong results
// and the first failure. A Scalar handed to libtorch as a temporary can be finalised mid-call; before the fix this loop
// failed 1–19 times per 10,000 calls ("Expected false to be true" from c10::Scalar). Exit code 0 only without failures.

int calls = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 40_000;
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
    // Young-generation collections: a temporary Scalar is young.
    while (!Volatile.Read(ref stop))
    {
        GC.Collect(1, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }
}) { IsBackground = true };
collector.Start();
int failures = 0, wrong = 0;
string? first = null;
try
{
    for (int i = 0; i < calls; i++)
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
Console.WriteLine(JsonSerializer.Serialize(new { calls, failures, wrong, first }));
return failures == 0 && wrong == 0 ? 0 : 1;
