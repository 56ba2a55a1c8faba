using TrigramLens.Hooks;
using TrigramLens.Model;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Evaluation;
using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Transcoders;

/// <summary>
/// Reads a transcoder of a trigram model's MLP (input <c>blocks.0.hook_resid_mid</c>, target <c>blocks.0.hook_mlp_out</c>)
/// on the analysis set: reconstruction (FVU, L0, dead and dense features), the model with the transcoder spliced in
/// (trigram accuracy and loss beside the clean model and the mean- and zero-ablated MLP), every live feature's activation
/// mass by (previous, current) token pair, logit effect, de-embedding and attention pull-back, and the headline: how many
/// trigrams own a dedicated feature (<see cref="DedicatedFeatures"/>) — with the MLP's own neurons analysed the same way
/// as the baseline.
/// </summary>
public static class TrigramTranscoderAnalysis
{
    public const string HookIn = "blocks.0.hook_resid_mid";
    public const string HookOut = "blocks.0.hook_mlp_out";
    const string HookPost = "blocks.0.mlp.hook_post";
    const int RowsPerChunk = 250, TopPairs = 5, TopTokens = 5;

    public static TranscoderAnalysis Run(HookedTransformer model, Transcoder transcoder, TrigramDataset dataset)
    {
        EnsureFits(model, transcoder);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var tokens = dataset.Tokens;
        var trigrams = dataset.Trigrams;
        var (logits, cache) = model.RunWithCache(tokens, HookIn, HookOut, HookPost);
        logits.Dispose();
        using (cache)
        {
            var x = cache[HookIn];                                                  // [rows, pos, d_model]
            var y = cache[HookOut];
            var metrics = TranscoderMetrics.Measure(transcoder, x.reshape(-1, x.shape[2]), y.reshape(-1, y.shape[2]));

            var masses = new TokenPairMass(transcoder.Cfg.d_sae);
            long chunkRows = Math.Max(1, TranscoderMetrics.ChunkPositions(transcoder.Cfg.d_sae) / tokens.shape[1]);
            for (long start = 0; start < tokens.shape[0]; start += chunkRows)
            {
                using var chunk = NewDisposeScope();
                long rows = Math.Min(chunkRows, tokens.shape[0] - start);
                masses.Add(tokens.narrow(0, start, rows), transcoder.Encode(x.narrow(0, start, rows)));
            }
            var featureMasses = masses.All();
            var features = Summaries(model, transcoder.W_enc, transcoder.W_dec, featureMasses, metrics.Density, trigrams, liveOnly: true);
            var dedicated = features.Where(f => f.DedicatedTo is not null).Select(f => f.DedicatedTo!).ToList();

            var (neurons, neuronMasses) = NeuronSummaries(model, cache[HookPost], tokens, trigrams);
            var neuronDedicated = neurons.Where(n => n.DedicatedTo is not null).Select(n => n.DedicatedTo!).ToList();

            int ownable = DedicatedFeatures.OwnableAtMost(model, tokens, cache[HookOut], trigrams);
            long positions = tokens.numel();
            using var prefixPositions = dataset.TrigramPositions();
            return new TranscoderAnalysis(
                new TranscoderSummary(transcoder.Cfg.architecture, transcoder.Cfg.d_in, transcoder.Cfg.d_sae, transcoder.Cfg.d_out, transcoder.Cfg.k,
                    transcoder.Cfg.hook_name, transcoder.Cfg.hook_name_out),
                new AnalysisSetSummary(dataset.Config.Seed, tokens.shape[0], (int)tokens.shape[1], positions, trigrams.Count, prefixPositions.shape[0]),
                new ReconstructionSummary(metrics.Fvu, metrics.ExplainedVariance, metrics.Mse, metrics.L0, metrics.Dead, transcoder.Cfg.d_sae - metrics.Dead,
                    metrics.Dense, metrics.DenseThreshold, (double)metrics.Dead / transcoder.Cfg.d_sae),
                Spliced(model, transcoder, dataset),
                Dedication(features.Count, dedicated, featureMasses, trigrams.Count, ownable),
                Dedication(neurons.Count, neuronDedicated, null, trigrams.Count, ownable, neurons),
                features, neurons, featureMasses, neuronMasses, metrics.Density);
        }
    }

    /// <summary>The transcoder must read <c>resid_mid</c> and write <c>mlp_out</c> of this model's single layer.</summary>
    public static void EnsureFits(HookedTransformer model, Transcoder transcoder)
    {
        var cfg = transcoder.Cfg;
        if (cfg.hook_name != HookIn || cfg.hook_name_out != HookOut)
            throw new ArgumentException($"the trigram analysis reads transcoders from {HookIn} to {HookOut}; this one maps {cfg.hook_name} to {cfg.hook_name_out}");
        if (cfg.d_in != model.Cfg.d_model || cfg.d_out != model.Cfg.d_model)
            throw new ArgumentException($"the transcoder maps {cfg.d_in} to {cfg.d_out} dimensions; the model's d_model is {model.Cfg.d_model}");
    }

    static SplicedSummary Spliced(HookedTransformer model, Transcoder transcoder, TrigramDataset dataset)
    {
        var trigrams = dataset.Trigrams;
        var loss = SplicedLoss.Measure(model, transcoder, dataset.Tokens,
            batchRows: (int)Math.Clamp(TranscoderMetrics.ChunkPositions(transcoder.Cfg.d_sae) / dataset.Tokens.shape[1], 1, 250));
        var prefixes = trigrams.Prefixes();
        using var mean = tensor(loss.MeanOutput);
        TrigramAccuracy Accuracy(Tensor logits) => TrigramAccuracy.FromLogits(trigrams, logits[.., 1]);
        return new SplicedSummary(
            Accuracy(model.call(prefixes)),
            Accuracy(TranscoderSplice.Run(model, transcoder, prefixes)),
            Accuracy(model.RunWithHooks(prefixes, (HookOut, Ablation.Mean(mean)))),
            Accuracy(model.RunWithHooks(prefixes, (HookOut, Ablation.Zero))),
            new LossSummary(loss.Clean, loss.Spliced, loss.MeanAblated, loss.ZeroAblated, loss.RecoveredVsMeanAblation, loss.RecoveredVsZeroAblation));
    }

    /// <summary>The MLP's neurons as features: activation <c>hook_post</c>, encoder column <c>W_in[:, n]</c>, decoder row
    /// <c>W_out[n]</c>.</summary>
    static (IReadOnlyList<FeatureSummary>, IReadOnlyList<FeaturePairMass>) NeuronSummaries(HookedTransformer model, Tensor post, Tensor tokens, TrigramSet trigrams)
    {
        int neurons = (int)post.shape[2];
        var masses = new TokenPairMass(neurons);
        for (long start = 0; start < tokens.shape[0]; start += RowsPerChunk)
        {
            long rows = Math.Min(RowsPerChunk, tokens.shape[0] - start);
            masses.Add(tokens.narrow(0, start, rows), post.narrow(0, start, rows));
        }
        var density = post.ne(HeldScalars.Zero).to(ScalarType.Float32).mean([0, 1]).data<float>().ToArray();
        var all = masses.All();
        return (Summaries(model, model.W_in[0], model.W_out[0], all, density, trigrams, liveOnly: false), all);
    }

    static List<FeatureSummary> Summaries(HookedTransformer model, Tensor encoderColumns, Tensor decoderRows,
        IReadOnlyList<FeaturePairMass> masses, float[] density, TrigramSet trigrams, bool liveOnly)
    {
        using var scope = NewDisposeScope();
        var logits = FeatureDirections.LogitEffects(decoderRows, model);                  // [features, d_vocab]
        var deEmbedding = FeatureDirections.DeEmbedding(encoderColumns, model).t();       // [features, d_vocab]
        var pullBack = FeatureDirections.AttentionPullBack(encoderColumns, model).t();
        int[] topLogit = logits.argmax(1).data<long>().ToArray().Select(t => (int)t).ToArray();
        var summaries = new List<FeatureSummary>();
        foreach (var m in masses)
        {
            if (liveOnly && m.ActivePositions == 0) continue;
            int f = m.Feature;
            summaries.Add(new FeatureSummary(f, density[f], m.ActivePositions, m.Total,
                m.Pairs.Take(TopPairs).Select(p => new PairShare(p.Previous, p.Current, m.Total > 0 ? p.Mass / m.Total : 0,
                    p.Previous >= 0 ? trigrams.Completion(p.Previous, p.Current) : null)).ToList(),
                Tokens(logits[f], true), Tokens(logits[f], false), Tokens(deEmbedding[f], true), Tokens(pullBack[f], true),
                DedicatedFeatures.Dedication(m, topLogit[f], trigrams)));
        }
        return summaries;
    }

    static List<TokenScore> Tokens(Tensor row, bool largest) =>
        FeatureDirections.Top(row, TopTokens, largest).Select(t => new TokenScore(t.Index, t.Value)).ToList();

    static DedicationSummary Dedication(int units, IReadOnlyList<DedicatedFeature> dedicated, IReadOnlyList<FeaturePairMass>? masses,
        int trigrams, int ownable, IReadOnlyList<FeatureSummary>? summaries = null)
    {
        double best = masses is not null
            ? masses.Select(m => m.TopShare).DefaultIfEmpty(0).Max()
            : summaries!.Select(s => s.TopPairs.Count > 0 ? s.TopPairs[0].Share : 0).DefaultIfEmpty(0).Max();
        return new DedicationSummary(units, DedicatedFeatures.DefaultShare, DedicatedFeatures.TrigramsOwned(dedicated), trigrams, ownable,
            dedicated.Count, best, dedicated.OrderBy(d => d.B).ThenBy(d => d.A).ThenBy(d => d.Feature).ToList());
    }
}
