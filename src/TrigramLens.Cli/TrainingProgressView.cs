using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli;

/// <summary>
/// Shows a training run: on a terminal a Spectre progress bar (epoch, step, loss, loss as a fraction, learning rate,
/// tokens/s, as many of them as the console's width leaves room for) with a line per finished epoch and per message
/// above it; when output is redirected (CI logs, pipes) plain lines instead — one per epoch, one per message, and a step
/// line at most every <see cref="PlainStepInterval"/>.
/// Reusable by any command that trains: <c>TrainingProgressView.Run(progress => TrigramTraining.Train(options, progress, ct))</c>.
/// </summary>
public static class TrainingProgressView
{
    public static readonly TimeSpan PlainStepInterval = TimeSpan.FromSeconds(10);

    /// <summary>Columns the bar, the percentage and the time left take beside the description, with their gaps.</summary>
    const int BarWidth = 16, OtherColumns = BarWidth + 1 + 4 + 1 + 8 + 1;

    /// <summary>Runs <paramref name="work"/> (which reports to the given sink from any thread) while rendering its progress.</summary>
    public static T Run<T>(Func<IProgress<TrainingProgress>, T> work) =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive ? RunLive(AnsiConsole.Console, work) : work(new PlainSink());

    /// <summary>
    /// The status text of a step report, as much as fits in <paramref name="width"/> characters: e.g. <c>epoch 3/10 · step
    /// 120/196 · loss 4.2112 (0.412) · lr 9.1e-03 · 1.62 M tok/s</c>, then without the rate and tokens/s, then epoch and loss.
    /// </summary>
    public static string Describe(TrainingProgress p, int width = int.MaxValue)
    {
        var c = CultureInfo.InvariantCulture;
        string epoch = string.Create(c, $"epoch {Math.Min(p.Epoch + 1, p.Epochs)}/{p.Epochs}");
        string[] variants =
        [
            string.Create(c, $"{epoch} · step {p.Step}/{p.StepsPerEpoch} · loss {p.Loss:F4} ({p.LossAsFraction:F3}) · lr {p.LearningRate:0.0e+00} · {p.TargetsPerSecond / 1e6:F2} M tok/s"),
            string.Create(c, $"{epoch} · step {p.Step}/{p.StepsPerEpoch} · loss {p.Loss:F4} · {p.TargetsPerSecond / 1e6:F2} M tok/s"),
            string.Create(c, $"{epoch} · step {p.Step}/{p.StepsPerEpoch} · loss {p.Loss:F4}"),
            string.Create(c, $"{epoch} · loss {p.Loss:F4}"),
        ];
        return variants.FirstOrDefault(v => v.Length <= width) ?? epoch;
    }

    /// <summary>The line of a finished epoch, as much as fits in <paramref name="width"/> characters.</summary>
    public static string DescribeEpoch(TrigramEpochMetrics m, int epochs, int width = int.MaxValue)
    {
        var c = CultureInfo.InvariantCulture;
        string head = string.Create(c, $"epoch {m.Epoch + 1,3}/{epochs}:");
        string[] variants =
        [
            string.Create(c, $"{head} train loss {m.TrainLoss:F4} · val loss {m.ValidationLoss:F4} ({m.LossAsFraction:F3}) · " +
                             $"trigrams {m.TrigramCorrect}/{m.TrigramTotal} ({m.TrigramAccuracy:P1}) · p(correct) {m.MeanCorrectProbability:F3} · " +
                             $"lr {m.LearningRate:0.0e+00} · {m.TargetsPerSecond / 1e6:F2} M tok/s · {m.ElapsedSeconds:F1} s"),
            string.Create(c, $"{head} val loss {m.ValidationLoss:F4} ({m.LossAsFraction:F3}) · trigrams {m.TrigramCorrect}/{m.TrigramTotal} · " +
                             $"{m.TargetsPerSecond / 1e6:F2} M tok/s · {m.ElapsedSeconds:F1} s"),
            string.Create(c, $"{head} val loss {m.ValidationLoss:F4} · trigrams {m.TrigramCorrect}/{m.TrigramTotal} · {m.ElapsedSeconds:F0} s"),
        ];
        return variants.FirstOrDefault(v => v.Length <= width) ?? variants[^1];
    }

    /// <summary>The live view on <paramref name="console"/> (tests pass one of a fixed width).</summary>
    internal static T RunLive<T>(IAnsiConsole console, Func<IProgress<TrainingProgress>, T> work)
    {
        var sink = new LatestSink(console.Profile.Width);
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = BarWidth },
                new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("preparing", maxValue: 1);
                // Training runs on its own thread; this one renders what it last reported, ten times a second.
                var running = Task.Run(() => work(sink));
                while (!running.Wait(100)) Render(console, sink, bar);
                Render(console, sink, bar);
                return running.GetAwaiter().GetResult();
            });
    }

    static void Render(IAnsiConsole console, LatestSink sink, ProgressTask bar)
    {
        var (latest, lines) = sink.Take();
        int width = console.Profile.Width;
        foreach (var line in lines) console.MarkupLine(Markup.Escape(line));   // wrapped at words by the console, never cut
        if (latest is null) return;
        if (latest.TotalSteps > 0)
        {
            bar.MaxValue = latest.TotalSteps;
            bar.Value = latest.GlobalStep;
        }
        // Messages are printed as lines above the bar, so the bar only says which phase it is in.
        bar.Description = Markup.Escape(latest.Phase switch
        {
            TrainingPhase.Preparing => "preparing",
            TrainingPhase.Finished => $"done: {latest.Epochs} epochs",
            TrainingPhase.Cancelled => "stopped",
            _ => Describe(latest, width - OtherColumns),
        });
        if (latest.Phase is TrainingPhase.Finished or TrainingPhase.Cancelled) bar.StopTask();
    }

    /// <summary>Keeps the latest report and queues the lines to print, for the rendering thread.</summary>
    sealed class LatestSink(int width) : IProgress<TrainingProgress>
    {
        readonly int _width = width;
        readonly Lock _gate = new();
        readonly List<string> _lines = [];
        TrainingProgress? _latest;

        public void Report(TrainingProgress value)
        {
            lock (_gate)
            {
                _latest = value;
                if (value.EpochMetrics is { } m && value.Phase == TrainingPhase.EpochEnd) _lines.Add(DescribeEpoch(m, value.Epochs, _width));
                else if (value.Message is { } message) _lines.Add(message);
            }
        }

        public (TrainingProgress? latest, List<string> lines) Take()
        {
            lock (_gate)
            {
                var lines = _lines.ToList();
                _lines.Clear();
                return (_latest, lines);
            }
        }
    }

    /// <summary>Plain lines to stdout, from the training thread.</summary>
    sealed class PlainSink : IProgress<TrainingProgress>
    {
        readonly Stopwatch _sinceStepLine = Stopwatch.StartNew();

        public void Report(TrainingProgress p)
        {
            switch (p.Phase)
            {
                case TrainingPhase.Step:
                    if (_sinceStepLine.Elapsed < PlainStepInterval) return;
                    _sinceStepLine.Restart();
                    Console.Out.WriteLine(Describe(p));
                    break;
                case TrainingPhase.EpochEnd when p.EpochMetrics is { } m:
                    Console.Out.WriteLine(DescribeEpoch(m, p.Epochs));
                    _sinceStepLine.Restart();
                    break;
                default:
                    if (p.Message is { } message) Console.Out.WriteLine(message);
                    break;
            }
        }
    }
}
