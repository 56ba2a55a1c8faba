using TrigramLens.Trigrams.Study;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli;

/// <summary>
/// Defaults the commands would otherwise take from the study and the recipes, replaced. The tool replaces none
/// (<see cref="CliApp.Run(string[])"/>); tests run the same commands with a small recipe and analysis set, so that a
/// whole <c>study</c> or <c>train</c> takes seconds instead of minutes.
/// </summary>
/// <param name="Recipe">the recipe <c>train</c> uses without <c>--recipe</c> (and knows by its name), and the one
/// <c>study</c> trains its default model with; null: fast, and <see cref="Trigrams.Study.DefaultStudyModel.Recipe"/></param>
/// <param name="Study">the study options <c>study</c> and <c>bench study</c> start from (the analysis set's size, the rows of
/// the Jacobian check) before their own options are applied; null: <see cref="StudyOptions"/>' defaults</param>
internal sealed record CliOverrides(TrigramRecipe? Recipe = null, StudyOptions? Study = null)
{
    public static CliOverrides None { get; } = new();
}
