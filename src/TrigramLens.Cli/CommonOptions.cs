using System.CommandLine;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli;

/// <summary>Options several commands share, so they are spelled and validated the same everywhere.</summary>
static class CommonOptions
{
    public static Option<int> Seed() => new("--seed")
    {
        Description = "Seed of the trigram set and data (ARENA's challenge uses 40)",
        DefaultValueFactory = _ => 40,
    };

    public static Option<bool> Json() => new("--json") { Description = "Print machine-readable JSON instead of tables" };

    public static Option<FileInfo> Model(bool required) => new Option<FileInfo>("--model")
    {
        Description = "Model checkpoint: a PyTorch state_dict (.pt) or a TrigramLens safetensors file",
        Required = required,
    }.AcceptExistingOnly();

    public static Option<ActivationFunction> ActFn() => new("--act-fn")
    {
        Description = "MLP activation of a checkpoint without a recorded config, e.g. a PyTorch state_dict (relu, the default, or gelu; TrigramLens's safetensors files carry their config)",
        DefaultValueFactory = _ => ActivationFunction.Relu,
        CustomParser = r => r.Tokens[0].Value.ToLowerInvariant() switch
        {
            "relu" => ActivationFunction.Relu,
            "gelu" => ActivationFunction.Gelu,
            var other => Fail(r, $"--act-fn must be relu or gelu (got '{other}')"),
        },
    };

    public static Option<NormalizationType> Normalization() => new("--normalization")
    {
        Description = "Normalisation of a checkpoint without a recorded config and without LayerNorm weights: none (the default, the trigram model) or LNPre (LayerNorm folded in); with LayerNorm weights give LN",
        DefaultValueFactory = _ => NormalizationType.None,
        CustomParser = r => r.Tokens[0].Value.ToLowerInvariant() switch
        {
            "none" => NormalizationType.None,
            "ln" => NormalizationType.LN,
            "lnpre" => NormalizationType.LNPre,
            var other => Fail(r, $"--normalization must be none, LN or LNPre (got '{other}')", NormalizationType.None),
        },
    };

    /// <summary>What the trigram commands assume of a checkpoint that records no config (a PyTorch state_dict).</summary>
    public static CheckpointLoadOptions LoadOptions(ParseResult r, Option<ActivationFunction> actFn, Option<NormalizationType> normalization) =>
        new(ActFn: r.GetValue(actFn), NormalizationType: r.GetValue(normalization));

    static T Fail<T>(System.CommandLine.Parsing.ArgumentResult r, string message, T fallback)
    {
        r.AddError(message);
        return fallback;
    }

    static ActivationFunction Fail(System.CommandLine.Parsing.ArgumentResult r, string message) => Fail(r, message, ActivationFunction.Relu);

    public static Option<int> Positive(string name, string description, int defaultValue, int max = int.MaxValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            int value = r.GetValueOrDefault<int>();
            if (value < 1) r.AddError($"{name} must be a positive integer");
            else if (value > max) r.AddError($"{name} must be at most {max:N0}");
        });
        return option;
    }

    /// <summary>An optional count: absent means "the default", present must be positive.</summary>
    public static Option<int?> OptionalPositive(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1) r.AddError($"{name} must be a positive integer");
        });
        return option;
    }

    public static Option<int?> Threads() => OptionalPositive("--threads",
        $"Training threads (default: one per core, at most {TrainingThreads.MaxDefault}); they run the recipe's data-parallel shards, so the weights do not depend on them");

    public static Option<string> Recipe() => new("--recipe")
    {
        Description = "Training recipe: fast (default; reaches ARENA's accuracy in the least time) or arena (ARENA's own, 100 epochs)",
        DefaultValueFactory = _ => TrigramRecipe.Fast.Name,
        CustomParser = r =>
        {
            try { return TrigramRecipe.Named(r.Tokens[0].Value).Name; }
            catch (ArgumentException e) { r.AddError($"--recipe: {e.Message}"); return ""; }
        },
    };

    public static Option<bool> FlushDenormals() => new("--flush-denormals")
    {
        Description = "Flush denormal floats to zero while training (default true; see docs/training.md)",
        DefaultValueFactory = _ => true,
    };

    /// <summary>Sequences of a generated dataset: 2 million × 50 tokens is 800 MB, beyond which a typo is likelier than intent.</summary>
    public const int MaxDatasetSize = 2_000_000;
}
