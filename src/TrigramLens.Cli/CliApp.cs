using System.CommandLine;
using Spectre.Console;
using TrigramLens.Checkpoints;
using TrigramLens.Cli.Commands;
using TrigramLens.Runtime;

namespace TrigramLens.Cli;

/// <summary>Builds the command tree and turns every expected failure into one line on stderr and a non-zero exit.</summary>
public static class CliApp
{
    public static RootCommand BuildRoot() => BuildRoot(CliOverrides.None);

    internal static RootCommand BuildRoot(CliOverrides overrides) => new("TrigramLens: mechanistic interpretability of ARENA's trigram transformer, in .NET.")
    {
        EvalCommand.Build(),
        TrigramsCommand.Build(),
        DatasetCommand.Build(),
        StudyCommand.Build(overrides),
        TrainCommand.Build(overrides),
        BenchCommand.Build(overrides),
        TranscoderCommand.Build(),
    };

    public static int Run(string[] args) => Run(args, CliOverrides.None);

    internal static int Run(string[] args, CliOverrides overrides)
    {
        // Spectre writes wherever Console.Out points now (tests and pipes redirect it).
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var root = BuildRoot(overrides);
        var parsed = root.Parse(args);
        if (args.Length == 0)
        {
            parsed = root.Parse("--help");
        }
        else if (parsed.Errors.Count > 0)
        {
            // The most specific error first: a value we parsed ("--size must be an integer ..."), then an unknown word
            // (which explains more than the "command not provided" it also causes), then whatever came first.
            var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("--", StringComparison.Ordinal))
                        ?? parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal))
                        ?? parsed.Errors[0];
            Console.Error.WriteLine($"trigramlens: {error.Message} (see --help)");
            return ExitCodes.Usage;
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
            if (ExitCodeFor(error) is int code)
            {
                Console.Error.WriteLine($"trigramlens: {error.Message.Split('\n', 2)[0].Trim()}");
                return code;
            }
            // A bug or a libtorch failure: still one line, with the full trace on request.
            Console.Error.WriteLine(Environment.GetEnvironmentVariable("TRIGRAMLENS_DEBUG") == "1"
                ? $"trigramlens: internal error: {error}"
                : $"trigramlens: internal error ({error.GetType().Name}): {error.Message.Split('\n', 2)[0].Trim()} (set TRIGRAMLENS_DEBUG=1 for details)");
            return ExitCodes.Internal;
        }
    }

    /// <summary>The exit code of an expected failure, or null for a bug.</summary>
    internal static int? ExitCodeFor(Exception e) => e switch
    {
        OperationCanceledException => ExitCodes.Interrupted,
        UsageException or ArgumentException => ExitCodes.Usage,
        CheckpointException or TorchRuntimeException or IOException or UnauthorizedAccessException or InvalidDataException
            or NotSupportedException => ExitCodes.Input,
        _ => null,
    };
}
