using TrigramLens.Checkpoints;
using TrigramLens.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Model;

/// <summary>
/// TrigramLens against PyTorch re-implementations of TransformerLens v3.5.1's forward pass (tools/fixtures): the
/// state dicts load through the checkpoint loader as TL wrote them, and every hook, the logits and the per-token
/// loss agree to 1e-5 relative.
/// </summary>
public sealed class TransformerLensParityTests(ITestOutputHelper output)
{
    const double Tolerance = 1e-5;

    public static TheoryData<string> Fixtures => [.. TransformerLensFixture.Names];

    static HookedTransformer LoadAsTl(TransformerLensFixture f) =>
        ModelCheckpoint.Load(f.WeightsPath, new CheckpointLoadOptions(Config: f.Config));

    [Theory, MemberData(nameof(Fixtures))]
    public void Every_hook_the_logits_and_the_loss_match_TransformerLens(string name)
    {
        using var f = new TransformerLensFixture(name);
        using var model = LoadAsTl(f);
        using var _ = no_grad();
        var (logits, cache) = model.RunWithCache(f.Tokens);
        using (cache)
        {
            Assert.Equal(f.HookNames.Order(StringComparer.Ordinal), cache.Keys.Order(StringComparer.Ordinal));
            var errors = f.HookNames.ToDictionary(h => h, h => RelativeError(cache[h], f.Hook(h), h));
            errors["logits"] = RelativeError(logits, f.Logits, "logits");
            errors["loss_per_token"] = RelativeError(LossPerToken(logits, f.Tokens), f.LossPerToken, "loss_per_token");
            var worst = errors.MaxBy(kv => kv.Value);
            output.WriteLine($"{name}: {errors.Count - 2} hooks, logits, per-token loss; largest relative error {worst.Value:0.00e+0} ({worst.Key})");
            Assert.All(errors, kv => Assert.True(kv.Value <= Tolerance, $"{kv.Key}: relative error {kv.Value:0.00e+0}"));
        }
    }

    [Theory, MemberData(nameof(Fixtures))]
    public void Hooks_fire_in_TransformerLens_order(string name)
    {
        using var f = new TransformerLensFixture(name);
        using var model = LoadAsTl(f);
        var fired = new List<string>();
        using (model.AddHook(_ => true, (_, hook) => { fired.Add(hook.Name); return null; }))
        using (no_grad())
            model.call(f.Tokens);

        // TL runs ln1 once per attention input (query, key, value), so with LayerNorm and unsplit inputs its hooks fire
        // three times on one tensor where TrigramLens computes it once; the order of first firings is the same.
        Assert.Equal(f.HookOrder.Distinct(), fired.Distinct());
        var repeats = f.HookOrder.GroupBy(h => h).Where(g => g.Count() != fired.Count(x => x == g.Key))
            .Select(g => $"{g.Key} ×{g.Count()} in TL, ×{fired.Count(x => x == g.Key)} here").ToList();
        Assert.All(repeats, r => Assert.Contains(".ln1.hook_", r));
        output.WriteLine($"{name}: {fired.Count} firings here, {f.HookOrder.Length} in TL{(repeats.Count > 0 ? "; " + string.Join("; ", repeats) : "")}");
        // Every hook point the model has fires, except hook_result without use_attn_result, which TL registers too.
        var silent = model.HookPoints.Keys.Except(fired).ToList();
        Assert.All(silent, h => Assert.True(!f.Config.use_attn_result && h.EndsWith(".attn.hook_result"), $"{h} never fires"));
    }

    [Theory, MemberData(nameof(Fixtures))]
    public void The_state_dict_has_TransformerLens_keys_and_shapes(string name)
    {
        using var f = new TransformerLensFixture(name);
        var tl = SafetensorsFile.Load(f.WeightsPath).tensors;
        using var model = new HookedTransformer(f.Config);
        var ours = model.state_dict();
        Assert.Equal(tl.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, tensor) in tl)
        {
            bool placeholder = key.EndsWith(".attn.mask") && tensor.shape.SequenceEqual([0L, 0L]);   // TL ≥ 3.5
            if (!placeholder) Assert.True(tensor.shape.SequenceEqual(ours[key].shape), $"{key}: TL [{string.Join(", ", tensor.shape)}], ours [{string.Join(", ", ours[key].shape)}]");
            Assert.Equal(tensor.dtype, ours[key].dtype);
        }
        foreach (var t in tl.Values) t.Dispose();
    }

    [Theory, MemberData(nameof(Fixtures))]
    public void A_bare_state_dict_gives_TLs_architecture_once_its_activation_and_normalisation_are_stated(string name)
    {
        using var f = new TransformerLensFixture(name);
        using var model = ModelCheckpoint.Load(f.WeightsPath, new CheckpointLoadOptions(ActFn: f.ActFn, NormalizationType: f.Normalization));
        var (c, e) = (model.Cfg, f.Config);
        Assert.Equal((e.n_layers, e.d_model, e.n_ctx, e.d_head, e.n_heads, e.d_mlp, e.d_vocab, e.d_vocab_out, e.act_fn, e.normalization_type, e.attn_only),
            (c.n_layers, c.d_model, c.n_ctx, c.d_head, c.n_heads, c.d_mlp, c.d_vocab, c.d_vocab_out, c.act_fn, c.normalization_type, c.attn_only));
        // Without hooks or cache, the forward must agree with TL too.
        using var _ = no_grad();
        double error = RelativeError(model.call(f.Tokens), f.Logits, "logits");
        output.WriteLine($"{name}: unhooked logits, largest relative error {error:0.00e+0}");
        Assert.True(error <= Tolerance, $"relative error {error:0.00e+0}");
    }

    [Theory, MemberData(nameof(Fixtures))]
    public void A_bare_state_dict_is_refused_without_what_its_tensors_cannot_tell(string name)
    {
        using var f = new TransformerLensFixture(name);
        if (!f.Config.attn_only)
            Assert.Contains("state act_fn", Refusal(new(NormalizationType: f.Normalization)));
        if (f.Normalization == NormalizationType.LN)
        {
            Assert.Contains("its normalization_type is LN, not the stated LNPre", Refusal(new(ActFn: f.ActFn, NormalizationType: NormalizationType.LNPre)));
            Assert.Contains("its normalization_type is LN, not the stated none", Refusal(new(ActFn: f.ActFn, NormalizationType: NormalizationType.None)));
        }
        else
        {
            Assert.Contains("state normalization_type none or LNPre", Refusal(new(ActFn: f.ActFn)));
            Assert.Contains("has no LayerNorm weights", Refusal(new(ActFn: f.ActFn, NormalizationType: NormalizationType.LN)));
        }

        string Refusal(CheckpointLoadOptions options)
        {
            var message = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Load(f.WeightsPath, options)).Message;
            Assert.DoesNotContain('\n', message);
            return message;
        }
    }

    [Fact]
    public void The_PyTorch_file_loads_exactly_as_the_safetensors_file()
    {
        using var f = new TransformerLensFixture("ln2l");
        var raw = PyTorchCheckpoint.LoadStateDict(f.PyTorchWeightsPath);
        Assert.Equal([0L, 0L], raw["blocks.0.attn.mask"].shape);                 // TL 3.5's placeholder, saved by torch.save
        Assert.True(raw["blocks.1.attn.IGNORE"].isneginf().item<bool>());
        using var fromPt = ModelCheckpoint.Load(f.PyTorchWeightsPath, new CheckpointLoadOptions(Config: f.Config));
        using var fromSafetensors = LoadAsTl(f);
        foreach (var (key, tensor) in fromSafetensors.state_dict())
            Assert.True(tensor.Equals(fromPt.state_dict()[key]), key);
        using var _ = no_grad();
        Assert.True(RelativeError(fromPt.call(f.Tokens), f.Logits, "logits") <= Tolerance);
        foreach (var t in raw.Values) t.Dispose();
    }

    /// <summary>TL's <c>lm_cross_entropy_loss(per_token=True)</c>: <c>[batch, pos − 1]</c>.</summary>
    static Tensor LossPerToken(Tensor logits, Tensor tokens) =>
        -logits[.., ..^1].log_softmax(-1).gather(-1, tokens[.., 1..].unsqueeze(-1)).squeeze(-1);

    /// <summary>
    /// <c>max |ours − reference| / max |reference|</c> over the finite entries; infinite entries (masked scores) must be
    /// the same infinities in the same places, and integer tensors equal.
    /// </summary>
    static double RelativeError(Tensor ours, Tensor reference, string what)
    {
        using var scope = NewDisposeScope();
        Assert.True(ours.shape.SequenceEqual(reference.shape), $"{what}: shape [{string.Join(", ", ours.shape)}], TL [{string.Join(", ", reference.shape)}]");
        if (!reference.is_floating_point()) return ours.Equals(reference) ? 0 : double.PositiveInfinity;
        var finite = reference.isfinite();
        Assert.True(finite.Equals(ours.isfinite()), $"{what}: the infinite entries are elsewhere");
        Assert.True(reference.masked_select(finite.logical_not()).Equals(ours.masked_select(finite.logical_not())), $"{what}: other infinities");
        var r = reference.masked_select(finite).to(ScalarType.Float64);
        var o = ours.masked_select(finite).to(ScalarType.Float64);
        if (r.numel() == 0) return 0;
        return (o - r).abs().max().item<double>() / Math.Max(r.abs().max().item<double>(), 1e-30);
    }
}
