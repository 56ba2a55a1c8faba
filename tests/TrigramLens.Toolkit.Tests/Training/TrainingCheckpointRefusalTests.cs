using System.Buffers.Binary;
using System.Text.Json.Nodes;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using TrigramLens.Tests.Runtime;
using TrigramLens.Testing;
using TrigramLens.Training;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Training;

/// <summary>What a resume relies on is checked when the checkpoint is read, not discovered mid-training.</summary>
[Collection(nameof(LibtorchThreadCount))]
public sealed class TrainingCheckpointRefusalTests() : TempDirectoryTests("trigramlens-resume-")
{
    string Saved()
    {
        var cfg = TinyModels.Deep(norm: NormalizationType.None, act: ActivationFunction.Relu, seed: 3);
        using var g = new Generator(11);
        using var tokens = randint(0, cfg.d_vocab, [32, cfg.n_ctx], generator: g);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 16, Schedule = new WarmupCosineSchedule(5e-3, 3, 0.1), Shuffle = true, ShuffleSeed = 5 };
        string path = Path.Combine(Dir, "run.resume.safetensors");
        using var model = new HookedTransformer(cfg);
        using var trainer = new Trainer(model, tokens, options);
        trainer.RunEpoch();
        TrainingCheckpoint.Save(path, trainer);
        return path;
    }

    static string Refusal(string path)
    {
        var e = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(path));
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    static void Rewrite(string path, Action<Dictionary<string, Tensor>, Dictionary<string, string>> edit)
    {
        var (tensors, metadata) = SafetensorsFile.Load(path);
        edit(tensors, metadata);
        SafetensorsFile.Save(path, tensors, metadata);
    }

    static void EditState(string path, Action<JsonObject> edit) => Rewrite(path, (_, m) =>
    {
        var state = JsonNode.Parse(m[TrainingCheckpoint.StateKey])!.AsObject();
        edit(state);
        m[TrainingCheckpoint.StateKey] = state.ToJsonString();
    });

    [Fact]
    public void A_valid_checkpoint_loads()
    {
        using var checkpoint = TrainingCheckpoint.Load(Saved());
        checkpoint.Model.Dispose();
        Assert.Equal(1, checkpoint.State.Position.Epoch);
    }

    [Fact]
    public void Impossible_positions_and_missing_steps_are_refused()
    {
        string path = Saved();
        EditState(path, s => s["epoch"] = -1);
        Assert.Contains("impossible training position (epoch -1", Refusal(path));
        path = Saved();
        EditState(path, s => s.Remove("optimizer_steps"));
        Assert.Contains("a training state without optimizer steps", Refusal(path));
        path = Saved();
        EditState(path, s => s["optimizer_steps"]!.AsObject().Remove("unembed.b_U"));
        Assert.Contains("lacks the optimizer step count of 'unembed.b_U'", Refusal(path));
    }

    [Fact]
    public void Moments_of_the_wrong_shape_or_sign_are_refused()
    {
        string path = Saved();
        Rewrite(path, (t, _) => t["optimizer.exp_avg.unembed.b_U"] = zeros(3));
        Assert.Contains("the parameter is Float32 [13]", Refusal(path));
        path = Saved();
        Rewrite(path, (t, _) => t["optimizer.exp_avg_sq.embed.W_E"][0, 0] = -1f);
        Assert.Contains("holds negative second moments", Refusal(path));
        path = Saved();
        Rewrite(path, (t, _) => t["optimizer.exp_avg.embed.W_E"][0, 0] = float.NaN);
        Assert.Contains("1 NaN", Refusal(path));
    }

    [Fact]
    public void A_generator_state_libtorch_would_read_past_is_refused()
    {
        // libtorch checks left <= 624 and next <= 624 separately; with both near the top the twister reads past its state.
        string path = Saved();
        Rewrite(path, (t, _) =>
        {
            var bytes = t["generator_state"].bytes.ToArray();
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 600);     // left
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), 600);   // next
            t["generator_state"] = tensor(bytes, ScalarType.Byte);
        });
        Assert.Contains("is not a valid generator state (left 600, next 600", Refusal(path));
        path = Saved();
        Rewrite(path, (t, _) => t["generator_state"] = t["generator_state"][..100].clone());
        Assert.Contains("libtorch's generator state is Byte [", Refusal(path));
    }
}
