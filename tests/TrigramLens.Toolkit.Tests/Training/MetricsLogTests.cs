using TrigramLens.Training;
using TrigramLens.Testing;

namespace TrigramLens.Tests.Training;

public sealed class MetricsLogTests() : TempDirectoryTests("trigramlens-log-")
{
    sealed record Entry(int Epoch, double LossValue);

    [Fact]
    public void Lines_are_snake_case_JSON_and_reopening_keeps_only_the_first_entries()
    {
        string path = Path.Combine(Dir, "m.jsonl");
        var log = MetricsLog<Entry>.Create(path);
        for (int i = 0; i < 4; i++) log.Append(new Entry(i, i / 10.0));
        Assert.Equal(4, File.ReadAllLines(path).Length);
        Assert.Contains("\"loss_value\":0.3", File.ReadAllLines(path)[3]);

        var reopened = MetricsLog<Entry>.Open(path, keep: 2);
        Assert.Equal([new Entry(0, 0), new Entry(1, 0.1)], reopened.Entries);
        reopened.Append(new Entry(2, 9));
        Assert.Equal(3, File.ReadAllLines(path).Length);
        Assert.Empty(MetricsLog<Entry>.Open(Path.Combine(Dir, "none.jsonl"), 5).Entries);
    }
}
