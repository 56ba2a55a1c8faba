using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TrigramLens.Transcoders;

namespace TrigramLens.Cli;

/// <summary>
/// Shows a transcoder's training: on a terminal a Spectre progress bar (step, FVU, L0, dead fraction, positions/s), with
/// messages as lines above it; when output is redirected, plain lines instead — one per message and a step line at most
/// every <see cref="TrainingProgressView.PlainStepInterval"/>, plus the last step.
/// </summary>
public static class TranscoderProgressView
{
    public static T Run<T>(Func<IProgress<TranscoderProgress>, T> work) =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive ? RunLive(work) : work(new PlainSink());

    /// <summary>E.g. <c>step 1,200/3,000 · FVU 0.0312 · L0 1.42 · dead 3.1 % · 0.41 M positions/s</c>.</summary>
    public static string Describe(TranscoderProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"step {p.Step:N0}/{p.Steps:N0} · FVU {p.Fvu:F4} · L0 {p.L0:F2} · dead {p.DeadFraction:P1} · {p.PositionsPerSecond / 1e6:F2} M positions/s");

    static T RunLive<T>(Func<IProgress<TranscoderProgress>, T> work)
    {
        var sink = new LatestSink();
        return AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("preparing", maxValue: 1);
                var running = Task.Run(() => work(sink));
                while (!running.Wait(100)) Render(sink, bar);
                Render(sink, bar);
                bar.StopTask();
                return running.GetAwaiter().GetResult();
            });
    }

    static void Render(LatestSink sink, ProgressTask bar)
    {
        var (latest, lines) = sink.Take();
        foreach (var line in lines) AnsiConsole.MarkupLine(Markup.Escape(line));
        if (latest is null || latest.Step == 0) return;
        bar.MaxValue = latest.Steps;
        bar.Value = latest.Step;
        bar.Description = Markup.Escape(Describe(latest));
    }

    sealed class LatestSink : IProgress<TranscoderProgress>
    {
        readonly Lock _gate = new();
        readonly List<string> _lines = [];
        TranscoderProgress? _latest;

        public void Report(TranscoderProgress value)
        {
            lock (_gate)
            {
                if (value.Message is { } message) _lines.Add(message);
                else _latest = value;
            }
        }

        public (TranscoderProgress? latest, List<string> lines) Take()
        {
            lock (_gate)
            {
                var lines = _lines.ToList();
                _lines.Clear();
                return (_latest, lines);
            }
        }
    }

    /// <summary>Plain lines (a step line at most every <see cref="TrainingProgressView.PlainStepInterval"/>), each after
    /// <paramref name="indent"/>: for training that runs inside a longer job, such as the study's transcoder.</summary>
    public static IProgress<TranscoderProgress> PlainLines(string indent = "") => new PlainSink(indent);

    sealed class PlainSink(string indent = "") : IProgress<TranscoderProgress>
    {
        readonly Stopwatch _sinceLine = Stopwatch.StartNew();

        public void Report(TranscoderProgress p)
        {
            if (p.Message is { } message)
            {
                Console.Out.WriteLine(indent + message);
                return;
            }
            if (_sinceLine.Elapsed < TrainingProgressView.PlainStepInterval && p.Step != p.Steps) return;
            _sinceLine.Restart();
            Console.Out.WriteLine(indent + Describe(p));
        }
    }
}
