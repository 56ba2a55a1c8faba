using TrigramLens.Cli;

return CliApp.Run(args);
