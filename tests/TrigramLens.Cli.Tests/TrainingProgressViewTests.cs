using System.Text.RegularExpressions;
using Spectre.Console;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli.Tests;

public partial class TrainingProgressViewTests
{
    static TrainingProgress Step(int epoch, int step) =>
        new(TrainingPhase.Step, "fast", epoch, 3, step, 521, epoch * 521L + step, 3 * 521L, 4.211234, 0.41234, 2.3e-3, 1.62e6);

    // A run as the live view sees it: two messages, steps, an epoch line, the end, on a console 80 columns wide.
    [Fact]
    public void The_live_view_reads_cleanly_at_80_columns()
    {
        var text = new StringWriter();
        var writer = TextWriter.Synchronized(text);   // written by the view's thread, read by the work's
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.Yes, Interactive = InteractionSupport.Yes, ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 80;
        string Written()
        {
            lock (writer) return text.ToString();   // the synchronized writer locks on itself
        }
        var metrics = new TrigramEpochMetrics(0, 4.3123, 4.2567, 0.4321, 201, 277, 0.51234, 2.3e-3, 14.2, 1.61e6);
        TrainingProgressView.RunLive(console, progress =>
        {
            progress.Report(new TrainingProgress(TrainingPhase.Preparing, "fast", 0, 3, 0, 0, 0, 0, double.NaN, double.NaN, 0, 0,
                Message: "nothing to resume at /some/where/model.resume.safetensors; starting from scratch"));
            for (int step = 1; step <= 3; step++) progress.Report(Step(0, step * 100));
            // The view renders ten times a second from its own thread: wait until it has drawn this step (not a fixed sleep,
            // which a loaded machine can outlast).
            var drawn = System.Diagnostics.Stopwatch.StartNew();
            while (!Written().Contains("step 300/521") && drawn.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(20);
            progress.Report(new TrainingProgress(TrainingPhase.EpochEnd, "fast", 0, 3, 521, 521, 521, 3 * 521L, 4.31, 0.43, 2.3e-3, 1.6e6, metrics));
            progress.Report(new TrainingProgress(TrainingPhase.Finished, "fast", 3, 3, 0, 521, 3 * 521L, 3 * 521L, 4.1, 0.4, 1e-4, 0, metrics));
            return 0;
        });

        string output = Ansi().Replace(Written(), "");
        var lines = output.Split('\n', '\r').ToList();
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: '{l}'"));
        Assert.Single(Regex.Matches(output, "nothing to resume"));                // a message is a line, not also the bar's text
        Assert.Contains(lines, l => l.Contains("epoch   1/3: val loss 4.2567") && l.Contains("trigrams 201/277"));
        // The bar's line keeps the step, the bar, the percentage and the time left together.
        Assert.Contains(lines, l => l.Contains("epoch 1/3 · step 300/521") && BarLine().IsMatch(l));
        Assert.Contains(lines, l => l.Contains("done: 3 epochs") && BarLine().IsMatch(l));
    }

    [Fact]
    public void Descriptions_shrink_to_the_room_they_have()
    {
        var p = Step(2, 120);
        Assert.Equal("epoch 3/3 · step 120/521 · loss 4.2112 (0.412) · lr 2.3e-03 · 1.62 M tok/s", TrainingProgressView.Describe(p));
        Assert.Equal("epoch 3/3 · step 120/521 · loss 4.2112 · 1.62 M tok/s", TrainingProgressView.Describe(p, 60));
        Assert.Equal("epoch 3/3 · loss 4.2112", TrainingProgressView.Describe(p, 30));
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")]
    private static partial Regex Ansi();

    [GeneratedRegex(@"[━─╸╺ ]+\s+\d+%\s+(\d\d:\d\d:\d\d|-+:-+:-+)")]
    private static partial Regex BarLine();
}
