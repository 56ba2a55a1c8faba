namespace TrigramLens.Trigrams.Study;

/// <summary>A finished stage of the study, for progress display.</summary>
public sealed record StudyStage(int Index, int Count, string Name, TimeSpan Elapsed);
