using System.CommandLine;
using Spectre.Console;
using TrigramLens.Checkpoints;
using TrigramLens.Cli.Commands;
using TrigramLens.Runtime;

namespace TrigramLens.Cli;

/// <summary>Builds the command tree and turns every expected failure into one line on stderr and a non-zero exit.</summary>
public static class CliApp
{
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;
    public const int ExitInternal = 3;

    public static RootCommand BuildRoot() => new("TrigramLens: mechanistic interpretability of ARENA's trigram transformer, in .NET.")
    {
        EvalCommand.Build(),
        TrigramsCommand.Build(),
        DatasetCommand.Build(),
        StudyCommand.Build(),
        TrainCommand.Build(),
        BenchCommand.Build(),
    };

    public static int Run(string[] args)
    {
        // Spectre writes wherever Console.Out points now (tests and pipes redirect it).
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var root = BuildRoot();
        var parsed = root.Parse(args);
        if (args.Length == 0)
        {
            parsed = root.Parse("--help");
        }
        else if (parsed.Errors.Count > 0)
        {
            // An unknown word explains more than the "command not provided" it also causes.
            var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
            Console.Error.WriteLine($"trigramlens: {error.Message} (see --help)");
            return ExitUsage;
        }

        try
        {
            // The tool, unlike the library, opts into libtorch's faster matrix kernels on AMD CPUs with AVX-512, before
            // any command multiplies anything (help needs no libtorch).
            if (parsed.Action is not System.CommandLine.Help.HelpAction)
                TorchRuntime.Configure(new TorchRuntimeOptions(MklAvx512OnNonIntel: true));
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            var error = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e;
            if (error is OperationCanceledException)
            {
                Console.Error.WriteLine($"trigramlens: {error.Message}");
                return StopOnCtrlC.ExitStopped;
            }
            if (IsUserFacing(error))
            {
                Console.Error.WriteLine($"trigramlens: {error.Message}");
                return ExitFailure;
            }
            // A bug or a libtorch failure: still one line, with the full trace on request.
            Console.Error.WriteLine(Environment.GetEnvironmentVariable("TRIGRAMLENS_DEBUG") == "1"
                ? $"trigramlens: internal error: {error}"
                : $"trigramlens: internal error ({error.GetType().Name}): {error.Message.Split('\n', 2)[0].Trim()} (set TRIGRAMLENS_DEBUG=1 for details)");
            return ExitInternal;
        }
    }

    static bool IsUserFacing(Exception e) =>
        e is CheckpointException or TorchRuntimeException or ArgumentException or IOException or UnauthorizedAccessException
            or InvalidDataException or NotSupportedException;
}
