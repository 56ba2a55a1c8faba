using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TrigramLens.Trigrams.Training;

namespace TrigramLens.Cli;

/// <summary>
/// Shows a training run: on a terminal a Spectre progress bar (epoch, step, loss, loss as a fraction, learning rate,
/// tokens/s) with a line per finished epoch above it; when output is redirected (CI logs, pipes) plain lines instead —
/// one per epoch, one per message, and a step line at most every <see cref="PlainStepInterval"/>.
/// Reusable by any command that trains: <c>TrainingProgressView.Run(progress => TrigramTraining.Train(options, progress, ct))</c>.
/// </summary>
public static class TrainingProgressView
{
    public static readonly TimeSpan PlainStepInterval = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="work"/> (which reports to the given sink from any thread) while rendering its progress.</summary>
    public static T Run<T>(Func<IProgress<TrainingProgress>, T> work) =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive ? RunLive(work) : work(new PlainSink());

    /// <summary>The status text of a step report, e.g. <c>epoch 3/10 · step 120/196 · loss 4.2112 (0.412) · lr 9.1e-03 · 1.62 M tok/s</c>.</summary>
    public static string Describe(TrainingProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {Math.Min(p.Epoch + 1, p.Epochs)}/{p.Epochs} · step {p.Step}/{p.StepsPerEpoch} · loss {p.Loss:F4} ({p.LossAsFraction:F3}) · lr {p.LearningRate:0.0e+00} · {p.TargetsPerSecond / 1e6:F2} M tok/s");

    /// <summary>The line of a finished epoch.</summary>
    public static string DescribeEpoch(TrigramEpochMetrics m, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch + 1,3}/{epochs}: train loss {m.TrainLoss:F4} · val loss {m.ValidationLoss:F4} ({m.LossAsFraction:F3}) · " +
        $"trigrams {m.TrigramCorrect}/{m.TrigramTotal} ({m.TrigramAccuracy:P1}) · p(correct) {m.MeanCorrectProbability:F3} · " +
        $"lr {m.LearningRate:0.0e+00} · {m.TargetsPerSecond / 1e6:F2} M tok/s · {m.ElapsedSeconds:F1} s");

    static T RunLive<T>(Func<IProgress<TrainingProgress>, T> work)
    {
        var sink = new LatestSink();
        return AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("preparing", maxValue: 1);
                // Training runs on its own thread; this one renders what it last reported, ten times a second.
                var running = Task.Run(() => work(sink));
                while (!running.Wait(100)) Render(sink, bar);
                Render(sink, bar);
                return running.GetAwaiter().GetResult();
            });
    }

    static void Render(LatestSink sink, ProgressTask bar)
    {
        var (latest, lines) = sink.Take();
        foreach (var line in lines) AnsiConsole.MarkupLine(Markup.Escape(line));
        if (latest is null) return;
        if (latest.TotalSteps > 0)
        {
            bar.MaxValue = latest.TotalSteps;
            bar.Value = latest.GlobalStep;
        }
        bar.Description = latest.Phase switch
        {
            TrainingPhase.Preparing => Markup.Escape(latest.Message ?? "preparing"),
            TrainingPhase.Finished => Markup.Escape($"done: {latest.Epochs} epochs"),
            TrainingPhase.Cancelled => Markup.Escape("stopped"),
            _ => Markup.Escape(Describe(latest)),
        };
        if (latest.Phase is TrainingPhase.Finished or TrainingPhase.Cancelled) bar.StopTask();
    }

    /// <summary>Keeps the latest report and queues the lines to print, for the rendering thread.</summary>
    sealed class LatestSink : IProgress<TrainingProgress>
    {
        readonly Lock _gate = new();
        readonly List<string> _lines = [];
        TrainingProgress? _latest;

        public void Report(TrainingProgress value)
        {
            lock (_gate)
            {
                _latest = value;
                if (value.EpochMetrics is { } m && value.Phase == TrainingPhase.EpochEnd) _lines.Add(DescribeEpoch(m, value.Epochs));
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
