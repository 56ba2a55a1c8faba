using System.CommandLine;

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

    public static Option<int> Positive(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError($"{name} must be a positive integer");
        });
        return option;
    }
}
