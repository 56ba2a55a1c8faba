using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli;

/// <summary>
/// Options several commands share, so they are spelled, parsed and validated the same everywhere. Numbers are parsed
/// here, not by System.CommandLine's defaults, so that a bad value is one line naming the option and the kind of value
/// it takes ("an integer"), never a .NET type name or a stack trace.
/// </summary>
static class CommonOptions
{
    public static Option<int> Seed() => Integer("--seed", "Seed of the trigram set and data (ARENA's challenge uses 40)", 40, min: 0);

    public static Option<bool> Json() => new("--json") { Description = "Print machine-readable JSON instead of tables" };

    /// <summary>An existing checkpoint file (a folder or a missing path is a usage error, checked before any work).</summary>
    public static Option<FileInfo> Model(bool required)
    {
        var option = new Option<FileInfo>("--model")
        {
            Description = "Model checkpoint: a PyTorch state_dict (.pt) or a TrigramLens safetensors file",
            Required = required,
        };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<FileInfo?>() is not { } file) return;
            if (Directory.Exists(file.FullName)) r.AddError($"--model '{file.FullName}' is a folder; give a checkpoint file");
            else if (!file.Exists) r.AddError($"--model '{file.FullName}' does not exist");
        });
        return option;
    }

    /// <summary>A folder the command writes into, checked before any work (<see cref="OutputLocation"/>).</summary>
    public static Option<DirectoryInfo> OutputFolder(string description, string defaultPath)
    {
        var option = new Option<DirectoryInfo>("--out") { Description = description, DefaultValueFactory = _ => new DirectoryInfo(defaultPath) };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<DirectoryInfo?>() is { } folder && OutputLocation.Problem(folder.FullName, isFolder: true) is { } problem)
                r.AddError($"--out '{folder.FullName}' {problem}");
        });
        return option;
    }

    /// <summary>A file the command writes, checked before any work (<see cref="OutputLocation"/>).</summary>
    public static Option<FileInfo> OutputFile(string description, string? defaultPath)
    {
        var option = new Option<FileInfo>("--out") { Description = description, Required = defaultPath is null };
        if (defaultPath is not null) option.DefaultValueFactory = _ => new FileInfo(defaultPath);
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<FileInfo?>() is { } file && OutputLocation.Problem(file.FullName, isFolder: false) is { } problem)
                r.AddError($"--out '{file.FullName}' {problem}");
        });
        return option;
    }

    /// <summary>
    /// The activation of a PyTorch state dict, which does not record it. Left out, it is relu, ARENA's model (the study's
    /// subject): the tool states it for the library, which does not guess.
    /// </summary>
    public static Option<ActivationFunction?> ActFn() => new("--act-fn")
    {
        Description = "MLP activation of a PyTorch state_dict, which does not record it: relu (default, ARENA's model) or gelu. " +
                      "Safetensors files carry their config",
        HelpName = "relu|gelu",
        CustomParser = r => r.Tokens[0].Value.ToLowerInvariant() switch
        {
            "relu" => ActivationFunction.Relu,
            "gelu" => ActivationFunction.Gelu,
            var other => Fail<ActivationFunction?>(r, $"--act-fn must be relu or gelu (got '{other}')"),
        },
    };

    /// <summary>
    /// The normalisation of a state dict without LayerNorm weights, which cannot tell none from LNPre (LayerNorm folded
    /// in). Left out, it is none, ARENA's model: the tool states it for the library, which does not guess.
    /// </summary>
    public static Option<NormalizationType?> Normalization() => new("--normalization")
    {
        Description = "Normalisation of a checkpoint without a recorded config: none (default, ARENA's model), LNPre (LayerNorm " +
                      "folded into the weights) or LN (a state_dict with LayerNorm weights needs it). Safetensors files carry their config",
        HelpName = "none|LN|LNPre",
        CustomParser = r => r.Tokens[0].Value.ToLowerInvariant() switch
        {
            "none" => NormalizationType.None,
            "ln" => NormalizationType.LN,
            "lnpre" => NormalizationType.LNPre,
            var other => Fail<NormalizationType?>(r, $"--normalization must be none, LN or LNPre (got '{other}')"),
        },
    };

    /// <summary>What a checkpoint command states for a state dict that records no config: relu and none unless given.</summary>
    public static CheckpointLoadOptions LoadOptions(ParseResult r, Option<ActivationFunction?> actFn, Option<NormalizationType?> normalization) =>
        new(ActFn: r.GetValue(actFn) ?? ActivationFunction.Relu, NormalizationType: r.GetValue(normalization) ?? NormalizationType.None);

    /// <summary>An integer option with a default and a range, e.g. <c>--size</c>.</summary>
    public static Option<int> Integer(string name, string description, int defaultValue, int min = 1, int max = int.MaxValue) =>
        new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseInteger(r, name, min, max) is long value ? (int)value : default,
        };

    /// <summary>An integer option that may be left out (then the caller's default applies).</summary>
    public static Option<int?> OptionalInteger(string name, string description, int min = 1, int max = int.MaxValue) =>
        new(name)
        {
            Description = description,
            CustomParser = r => ParseInteger(r, name, min, max) is long value ? (int)value : null,
        };

    /// <summary>A long integer option with a default and a lower bound, e.g. <c>--long-steps</c>.</summary>
    public static Option<long> Long(string name, string description, long defaultValue, long min) =>
        new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseInteger(r, name, min, long.MaxValue) ?? default,
        };

    /// <summary>A repeatable integer option, e.g. <c>--row 5 --row 17</c>.</summary>
    public static Option<int[]> Integers(string name, string description, int min, int max) =>
        new(name)
        {
            Description = description,
            CustomParser = r => r.Tokens.Select(t => ParseInteger(r, name, min, max, t.Value) is long v ? (int)v : 0).ToArray(),
        };

    static long? ParseInteger(ArgumentResult r, string name, long min, long max, string? text = null)
    {
        text ??= r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            return Fail<long?>(r, $"{name} must be an integer (got '{text}')");
        if (value < min || value > max)
        {
            string range = max == long.MaxValue || max == int.MaxValue
                ? min == 1 ? "a positive integer" : $"an integer of at least {min:N0}"
                : $"an integer from {min:N0} to {max:N0}";
            return Fail<long?>(r, $"{name} must be {range} (got {value:N0})");
        }
        return value;
    }

    static T Fail<T>(ArgumentResult r, string message)
    {
        r.AddError(message);
        return default!;
    }

    public static Option<int?> Threads() => OptionalInteger("--threads",
        $"Training threads (default: one per core, at most {TrainingThreads.MaxDefault}); they run the recipe's data-parallel shards, so the weights do not depend on them");

    public static Option<string> Recipe() => new("--recipe")
    {
        Description = "Training recipe: fast (default; reaches ARENA's accuracy in the least time) or arena (ARENA's own, 100 epochs)",
        HelpName = "fast|arena",
        DefaultValueFactory = _ => TrigramRecipe.Fast.Name,
        CustomParser = r =>
        {
            try { return TrigramRecipe.Named(r.Tokens[0].Value).Name; }
            catch (ArgumentException e) { return Fail<string>(r, $"--recipe: {e.Message}"); }
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
