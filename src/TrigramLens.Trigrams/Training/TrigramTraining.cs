using System.Diagnostics;
using System.Globalization;
using TrigramLens.Checkpoints;
using TrigramLens.Figures;
using TrigramLens.Model;
using TrigramLens.Runtime;
using TrigramLens.Training;
using TrigramLens.Trigrams.Evaluation;

namespace TrigramLens.Trigrams.Training;

/// <summary>
/// Trains a trigram model with a recipe: data and split from the seed, the challenge's architecture initialised from
/// the seed, the toolkit's <see cref="Trainer"/>, and after every epoch ARENA's metrics, the metrics log and both
/// checkpoints. Runs on a dedicated libtorch thread (<see cref="TorchThread"/>); progress is reported from it.
/// </summary>
public static class TrigramTraining
{
    public const string RecipeKey = "trigramlens.recipe";
    public const string SeedKey = "trigramlens.seed";
    public const string EpochKey = "trigramlens.epochs_done";
    public const string ElapsedKey = "trigramlens.elapsed_seconds";

    /// <summary>
    /// Trains (or, with <see cref="TrigramTrainingOptions.Resume"/>, continues) and returns the model. Cancelling stops
    /// after the current step and saves a resumable checkpoint there; the result then has <c>Completed = false</c>.
    /// </summary>
    public static TrainingResult Train(TrigramTrainingOptions options, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        var recipe = options.EffectiveRecipe;
        recipe.Validate();
        return TorchThread.Run(TrainingThreads.Settings(options.FlushDenormals), () => new Run(options, recipe, progress).Execute(cancellation));
    }

    sealed class Run(TrigramTrainingOptions options, TrigramRecipe recipe, IProgress<TrainingProgress>? progress)
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        readonly TrainingOutputs? _outputs = options.OutputPath is string path ? TrainingOutputs.For(path) : null;
        readonly int _threads = TrainingThreads.Count(options.Threads);
        double _elapsedBefore;      // seconds spent in earlier sessions of a resumed run

        public TrainingResult Execute(CancellationToken cancellation)
        {
            var data = options.Data;
            var trainerOptions = recipe.ToTrainerOptions(options.Seed);
            // Before any data is generated: what there is to resume (a refused resume then costs nothing).
            var checkpoint = ResumableCheckpoint(trainerOptions);
            HookedTransformer? model = null;
            Trainer? trainer = null;
            MetricsLog<TrigramEpochMetrics>? log = null;
            List<TrigramEpochMetrics> history = [];
            try
            {
                Report(TrainingPhase.Preparing, message: $"generating {recipe.DatasetSize:N0} sequences (seed {options.Seed}) and splitting {recipe.TrainSize:N0} / {recipe.ValidationSize:N0}");
                using var split = TrigramDataSplit.Create(data, recipe.DatasetSize, recipe.TrainSize);
                if (checkpoint is not null)
                {
                    model = checkpoint.Model;
                    trainer = new Trainer(model, split.Train, trainerOptions, _threads);
                    trainer.Restore(checkpoint.State);
                    _elapsedBefore = double.Parse(checkpoint.Metadata.GetValueOrDefault(ElapsedKey, "0"), CultureInfo.InvariantCulture);
                    log = MetricsLog<TrigramEpochMetrics>.Open(_outputs!.Metrics, keep: trainer.Position.Epoch);
                    history.AddRange(log.Entries);
                    Report(TrainingPhase.Preparing, trainer, message: $"resuming {_outputs.Resume} at epoch {trainer.Position.Epoch + 1}, step {trainer.Position.StepInEpoch}");
                }
                if (model is null || trainer is null)
                {
                    model = new HookedTransformer(TrigramModelConfig.For(data, options.Seed));
                    trainer = new Trainer(model, split.Train, trainerOptions, _threads);
                    if (_outputs is not null) log = MetricsLog<TrigramEpochMetrics>.Create(_outputs.Metrics);
                }
                Report(TrainingPhase.Preparing, trainer, message:
                    $"{recipe.Name} recipe: {recipe.Epochs} × {trainer.StepsPerEpoch:N0} steps of batch {recipe.BatchSize} " +
                    $"({recipe.Shards} shard(s) on {trainer.Workers} thread(s))");

                while (!trainer.IsFinished)
                {
                    var summary = trainer.RunEpoch(step => Report(TrainingPhase.Step, trainer, step.Loss, step.TargetsPerSecond, lr: step.LearningRate), cancellation);
                    if (summary is null)
                    {
                        // Mid-epoch weights: no epoch metrics describe them, so the model file carries none.
                        Save(trainer, metrics: null);
                        Report(TrainingPhase.Cancelled, trainer, message: _outputs is null ? "stopped" : $"stopped; resume with --resume from {_outputs.Resume}");
                        return Result(model, completed: false, history);
                    }
                    var metrics = Evaluate(model, split, summary);
                    history.Add(metrics);
                    log?.Append(metrics);
                    Save(trainer, metrics);
                    Report(TrainingPhase.EpochEnd, trainer, summary.TrainLoss, summary.TargetsPerSecond, metrics,
                        _outputs is null ? null : $"saved {_outputs.Model}", summary.LearningRate);
                }
                if (_outputs is not null && history.Count > 0) SaveCurves(history);
                Report(TrainingPhase.Finished, trainer, history.LastOrDefault()?.TrainLoss ?? double.NaN, 0, history.LastOrDefault());
                return Result(model, completed: true, history);
            }
            catch
            {
                // Also a failed resume: the loaded model is ours until it is returned.
                (model ?? checkpoint?.Model)?.Dispose();
                throw;
            }
            finally
            {
                trainer?.Dispose();
                checkpoint?.Dispose();
            }
        }

        /// <summary>The checkpoint to continue from, or null to start afresh; refuses one written by a different run
        /// unless told to train over it.</summary>
        TrainingCheckpoint? ResumableCheckpoint(TrainerOptions trainerOptions)
        {
            if (!options.Resume) return null;
            if (_outputs is null || !File.Exists(_outputs.Resume))
            {
                Report(TrainingPhase.Preparing, message: $"nothing to resume at {_outputs?.Resume ?? "(no output path)"}; starting from scratch");
                return null;
            }
            var checkpoint = TrainingCheckpoint.Load(_outputs.Resume);
            if (DifferentRun(checkpoint, trainerOptions) is not var (reason, advice)) return checkpoint;
            checkpoint.Model.Dispose();
            checkpoint.Dispose();
            if (!options.RestartDifferentRun) throw new ArgumentException($"{reason}; {advice}");
            Report(TrainingPhase.Preparing, message: $"{reason}: training again from scratch");
            return null;
        }

        TrigramEpochMetrics Evaluate(HookedTransformer model, TrigramDataSplit split, EpochSummary summary)
        {
            var onTrigrams = TrigramModelMetrics.OnTrigrams(model, split.Trigrams);
            double validation = TrigramModelMetrics.DatasetLoss(model, split.Validation, threads: _threads);
            return new TrigramEpochMetrics(
                summary.Epoch, summary.TrainLoss, validation,
                TrigramModelMetrics.LossFraction(validation, split.Config.DVocab, split.Config.ResolvedTrigramProb),
                onTrigrams.Accuracy.Correct, onTrigrams.Accuracy.Total, onTrigrams.MeanCorrectProbability,
                summary.LearningRate, Elapsed, summary.TargetsPerSecond);
        }

        /// <summary>Why <paramref name="checkpoint"/> cannot continue into this run and what the user can do, or null
        /// when it can.</summary>
        (string Reason, string Advice)? DifferentRun(TrainingCheckpoint checkpoint, TrainerOptions trainerOptions)
        {
            string savedRecipe = checkpoint.Metadata.GetValueOrDefault(RecipeKey, "");
            string savedSeed = checkpoint.Metadata.GetValueOrDefault(SeedKey, "");
            string seed = options.Seed.ToString(CultureInfo.InvariantCulture);
            if (savedRecipe == recipe.ToJson() && savedSeed == seed && checkpoint.Options == trainerOptions) return null;
            string savedName = TryName(savedRecipe);
            // Same name, seed and epochs, another definition: left by a version whose recipe differed.
            if (savedName == recipe.Name && savedSeed == seed && checkpoint.Options.Epochs == trainerOptions.Epochs)
                return ($"{_outputs!.Resume} was written with an earlier definition of the {recipe.Name} recipe", "drop --resume to start over");
            var differences = new List<string>();
            if (savedName != recipe.Name) differences.Add($"recipe {savedName}, not {recipe.Name}");
            if (savedSeed != seed) differences.Add($"seed {savedSeed}, not {seed}");
            if (checkpoint.Options.Epochs != trainerOptions.Epochs)
                differences.Add($"{checkpoint.Options.Epochs} epoch{(checkpoint.Options.Epochs == 1 ? "" : "s")}, not {trainerOptions.Epochs}");
            if (differences.Count == 0) differences.Add("other trainer options");
            return ($"{_outputs!.Resume} was written by a different run ({string.Join("; ", differences)})",
                "resume it with the same --recipe, --seed and --epochs, or drop --resume to start over");
        }

        static string TryName(string json)
        {
            try { return TrigramRecipe.FromJson(json).Name; }
            catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException) { return "?"; }
        }

        void Save(Trainer trainer, TrigramEpochMetrics? metrics)
        {
            if (_outputs is null) return;
            var meta = new Dictionary<string, string>
            {
                [RecipeKey] = recipe.ToJson(),
                [SeedKey] = options.Seed.ToString(CultureInfo.InvariantCulture),
                [EpochKey] = trainer.Position.Epoch.ToString(CultureInfo.InvariantCulture),
                [ElapsedKey] = Elapsed.ToString("R", CultureInfo.InvariantCulture),
            };
            // The resume file first: if the process dies between the two writes, the model file is one epoch behind, never ahead.
            TrainingCheckpoint.Save(_outputs.Resume, trainer, meta);
            if (metrics is not null)
            {
                meta["trigramlens.trigram_accuracy"] = $"{metrics.TrigramCorrect}/{metrics.TrigramTotal}";
                meta["trigramlens.validation_loss"] = metrics.ValidationLoss.ToString("R", CultureInfo.InvariantCulture);
            }
            ModelCheckpoint.Save(trainer.Model, _outputs.Model, meta);
        }

        void SaveCurves(IReadOnlyList<TrigramEpochMetrics> history) => TrainingCurves.SavePng(
            _outputs!.Curves,
            $"{recipe.Name} recipe, seed {options.Seed}: {history[^1].TrigramCorrect}/{history[^1].TrigramTotal} trigrams",
            [new CurveSeries("train loss", history.Select(m => m.TrainLoss).ToList()),
             new CurveSeries("validation loss", history.Select(m => m.ValidationLoss).ToList())],
            "loss",
            [new CurveSeries("trigram accuracy", history.Select(m => m.TrigramAccuracy).ToList()),
             new CurveSeries("mean correct probability", history.Select(m => m.MeanCorrectProbability).ToList())],
            "fraction");

        double Elapsed => _elapsedBefore + _clock.Elapsed.TotalSeconds;

        TrainingResult Result(HookedTransformer model, bool completed, List<TrigramEpochMetrics> history) =>
            new(model, recipe, options.Seed, completed, history.LastOrDefault(), history, _clock.Elapsed, _outputs);

        void Report(TrainingPhase phase, Trainer? trainer = null, double loss = double.NaN, double targetsPerSecond = 0,
            TrigramEpochMetrics? metrics = null, string? message = null, double? lr = null)
        {
            if (progress is null) return;
            var data = options.Data;
            int stepsPerEpoch = trainer?.StepsPerEpoch ?? 0;
            var position = trainer?.Position ?? default;
            // At an epoch end the position already points at the next epoch; report the one that finished.
            int epoch = phase == TrainingPhase.EpochEnd ? position.Epoch - 1 : Math.Min(position.Epoch, recipe.Epochs);
            int step = phase == TrainingPhase.EpochEnd ? stepsPerEpoch : position.StepInEpoch;
            progress.Report(new TrainingProgress(phase, recipe.Name, epoch, recipe.Epochs, step, stepsPerEpoch,
                position.GlobalStep, trainer?.TotalSteps ?? 0, loss,
                double.IsNaN(loss) ? double.NaN : TrigramModelMetrics.LossFraction(loss, data.DVocab, data.ResolvedTrigramProb),
                lr ?? trainer?.LearningRate ?? 0, targetsPerSecond, metrics, message));
        }
    }
}
