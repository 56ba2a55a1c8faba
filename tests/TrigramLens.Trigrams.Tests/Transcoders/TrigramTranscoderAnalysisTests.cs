using TrigramLens.Checkpoints;
using TrigramLens.Testing;
using TrigramLens.Transcoders;
using TrigramLens.Trigrams.Data;
using TrigramLens.Trigrams.Training;
using TrigramLens.Trigrams.Transcoders;
using static TorchSharp.torch;

namespace TrigramLens.Trigrams.Tests.Transcoders;

public sealed class TrigramTranscoderAnalysisTests
{
    /// <summary>
    /// A ReLU transcoder holding the MLP's own weights is the MLP with its neurons as features: its analysis must agree
    /// with the neuron baseline in every number the two share, and splice in without changing anything.
    /// </summary>
    [ArenaCheckpointFact]
    public void The_mlp_as_a_transcoder_reproduces_the_neuron_baseline_on_arenas_checkpoint()
    {
        using var model = ModelCheckpoint.Load(ReferenceData.RequireArenaCheckpoint(), TrigramModelConfig.CheckpointOptions);
        using var dataset = TrigramDataset.Generate(TrigramDataConfig.Arena, 300);
        var cfg = new TranscoderConfig(32, 20, 32, TranscoderActivation.Relu, TrigramTranscoderAnalysis.HookIn, TrigramTranscoderAnalysis.HookOut);
        using var t = new Transcoder(cfg);
        using (no_grad())
        {
            t.W_enc.copy_(model.W_in[0]);
            t.b_enc.copy_(model.b_in[0]);
            t.W_dec.copy_(model.W_out[0]);
            t.b_dec.copy_(model.b_out[0]);
        }
        var a = TrigramTranscoderAnalysis.Run(model, t, dataset);

        Assert.True(a.Reconstruction.Fvu < 1e-8, $"FVU {a.Reconstruction.Fvu}");
        Assert.Equal(a.Spliced.Clean.Correct, a.Spliced.Spliced.Correct);
        Assert.Equal(266, a.Spliced.Clean.Correct);                              // ARENA's checkpoint completes 266 / 277
        Assert.Equal(1, a.Spliced.Loss.RecoveredVsMeanAblation, 4);
        Assert.True(a.Spliced.MeanAblated.Correct < a.Spliced.Clean.Correct);
        Assert.Equal(a.NeuronBaseline.TrigramsOwned, a.Dedicated.TrigramsOwned);
        Assert.Equal(a.NeuronBaseline.BestTopShare, a.Dedicated.BestTopShare, 6);
        foreach (var neuron in a.Neurons.Where(n => n.ActivePositions > 0))
        {
            var feature = a.Features.Single(f => f.Index == neuron.Index);
            Assert.Equal(neuron.Density, feature.Density, 6);
            Assert.Equal(neuron.Mass, feature.Mass, 2);
            Assert.Equal(neuron.TopPairs.Select(p => (p.Previous, p.Current)), feature.TopPairs.Select(p => (p.Previous, p.Current)));
            Assert.Equal(neuron.LogitTop.Select(x => x.Token), feature.LogitTop.Select(x => x.Token));
        }
        Assert.Equal(20, a.NeuronBaseline.Units);
        Assert.Equal(dataset.Tokens.numel(), a.AnalysisSet.Positions);
    }
}
