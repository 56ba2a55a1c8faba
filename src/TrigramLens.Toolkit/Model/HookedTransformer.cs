using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Hooks;
using TrigramLens.Runtime;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Model;

/// <summary>
/// A TransformerLens-compatible <c>HookedTransformer</c>: the same parameter names and shapes (so TL state dicts
/// load as they are), the same hook points firing in the same order, and TL's default initialisation.
/// </summary>
public sealed class HookedTransformer : nn.Module<Tensor, Tensor>
{
    public HookPoint? hook_tokens;          // [batch, pos], only with use_hook_tokens
    public Embed embed;
    public HookPoint hook_embed = new();    // [batch, pos, d_model]
    public PosEmbed pos_embed;
    public HookPoint hook_pos_embed = new();
    public ModuleList<TransformerBlock> blocks;
    public LayerNorm? ln_final;
    public Unembed unembed;

    readonly Dictionary<string, HookPoint> _hookPoints;

    public HookedTransformerConfig Cfg { get; }

    public HookedTransformer(HookedTransformerConfig cfg) : base(nameof(HookedTransformer))
    {
        TorchRuntime.EnsureLoaded();
        Cfg = cfg;
        if (cfg.use_hook_tokens) hook_tokens = new HookPoint();
        embed = new Embed(cfg);
        pos_embed = new PosEmbed(cfg);
        blocks = new ModuleList<TransformerBlock>(Enumerable.Range(0, cfg.n_layers).Select(_ => new TransformerBlock(cfg)).ToArray());
        if (cfg.normalization_type != NormalizationType.None) ln_final = new LayerNorm(cfg, cfg.d_model);
        unembed = new Unembed(cfg);
        RegisterComponents();
        // The model owns its weights: a dispose scope around its construction must not free them.
        foreach (var parameter in parameters()) parameter.DetachFromDisposeScope();
        foreach (var buffer in buffers()) buffer.DetachFromDisposeScope();

        _hookPoints = [];
        foreach (var (name, module) in named_modules())
        {
            if (module is not HookPoint hook) continue;
            hook.Name = name;
            _hookPoints[name] = hook;
        }
        InitWeights();
    }

    /// <summary>Every hook point by its full TransformerLens name (in registration order, not firing order).</summary>
    public IReadOnlyDictionary<string, HookPoint> HookPoints => _hookPoints;

    /// <summary>
    /// TransformerLens's GPT-2 style init: every <c>W_*</c> ~ N(0, initializer_range) in registration order, biases
    /// zero, LayerNorm weights one. With <c>seed</c> set, the draws come from a generator seeded with it, which gives
    /// the numbers TL's seeded global generator gives, without touching global state.
    /// </summary>
    void InitWeights()
    {
        using var generator = Cfg.seed is int seed ? new Generator((ulong)seed) : null;
        using var _ = no_grad();
        foreach (var (name, parameter) in named_parameters())
            if (name.Contains("W_", StringComparison.Ordinal))
                parameter.normal_(0, Cfg.initializer_range, generator);   // nn.init.normal_ ignores its generator in TorchSharp 0.107
    }

    /// <param name="tokens">[batch, pos] (or [pos]) int64, values in [0, d_vocab)</param>
    /// <returns>logits [batch, pos, d_vocab_out]</returns>
    public override Tensor forward(Tensor tokens)
    {
        tokens = CheckTokens(tokens);
        if (hook_tokens is not null) tokens = hook_tokens.call(tokens);
        // pos_embed returns a view of W_pos: a hook editing it in place must not write into the weight.
        var residual = hook_embed.call(embed.call(tokens)).add(hook_pos_embed.CallShared(pos_embed.call(tokens)), One);
        foreach (var block in blocks) residual = block.call(residual);
        if (ln_final is not null) residual = ln_final.call(residual);
        return unembed.call(residual);
    }

    /// <summary>
    /// <c>forward(tokens)[:, :-1]</c>, the logits next-token training uses, computed as <c>forward(tokens[:, :-1])</c>:
    /// attention is causal, so no earlier position depends on the last token, and the last position's own residual
    /// feeds no target. Hooks, when attached, see the first <c>pos − 1</c> positions.
    /// </summary>
    /// <returns>[batch, pos − 1, d_vocab_out]</returns>
    public Tensor ForwardExceptLast(Tensor tokens)
    {
        if (tokens.dim() == 1) tokens = tokens.unsqueeze(0);
        return forward(tokens.narrow(1, 0, tokens.shape[1] - 1));
    }

    Tensor CheckTokens(Tensor tokens)
    {
        if (tokens.dim() == 1) tokens = tokens.unsqueeze(0);
        if (tokens.dim() != 2)
            throw new ArgumentException($"tokens must be [batch, pos] or [pos]; got [{string.Join(", ", tokens.shape)}]");
        if (tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"tokens must be int64; got {tokens.dtype}");
        if (tokens.shape[1] > Cfg.n_ctx)
            throw new ArgumentException($"sequence length {tokens.shape[1]} exceeds n_ctx = {Cfg.n_ctx}");
        if (tokens.numel() > 0)
        {
            long min = tokens.min().item<long>(), max = tokens.max().item<long>();
            if (min < 0 || max >= Cfg.d_vocab)
                throw new ArgumentException($"token values must lie in [0, {Cfg.d_vocab}); got values from {min} to {max}");
        }
        return tokens;
    }

    // ---- Hooks -----------------------------------------------------------------------------------------

    public HookPoint GetHookPoint(string name)
    {
        string full = ActivationNames.Get(name);
        return _hookPoints.TryGetValue(full, out var hook)
            ? hook
            : throw new ArgumentException($"No hook point '{full}' in this model (it has: {string.Join(", ", _hookPoints.Keys)})");
    }

    /// <summary>Attaches <paramref name="hook"/> to the named hook point; dispose the handle to remove it.</summary>
    public HookHandle AddHook(string name, HookFunction hook, bool permanent = false) =>
        GetHookPoint(name).AddHook(hook, permanent);

    /// <summary>Attaches <paramref name="hook"/> to every hook point whose name satisfies <paramref name="filter"/>.</summary>
    public HookHandle AddHook(Func<string, bool> filter, HookFunction hook, bool permanent = false) =>
        HookHandle.Combine(_hookPoints.Where(kv => filter(kv.Key)).Select(kv => kv.Value.AddHook(hook, permanent)).ToList());

    /// <summary>
    /// Attaches hooks for the lifetime of the returned scope: <c>using (model.Hooks(("blocks.0.hook_mlp_out", Ablation.Zero))) ...</c>
    /// </summary>
    public HookHandle Hooks(params (string name, HookFunction hook)[] hooks)
    {
        var points = hooks.Select(h => GetHookPoint(h.name)).ToList();   // every name checked before anything is attached
        return HookHandle.Combine(points.Zip(hooks, (point, h) => point.AddHook(h.hook)).ToList());
    }

    /// <summary>Removes every non-permanent hook (and permanent ones too if asked).</summary>
    public void ResetHooks(bool includingPermanent = false)
    {
        foreach (var hook in _hookPoints.Values) hook.RemoveHooks(includingPermanent);
    }

    /// <summary>Runs the model with the given hooks attached, removing them afterwards even on error.</summary>
    public Tensor RunWithHooks(Tensor tokens, params (string name, HookFunction hook)[] hooks)
    {
        using var scope = Hooks(hooks);
        return call(tokens);
    }

    /// <summary>
    /// Runs the model and records activations: every hook point, or those whose full name passes
    /// <paramref name="namesFilter"/>. The cache owns its tensors; dispose it when done.
    /// </summary>
    public (Tensor logits, ActivationCache cache) RunWithCache(Tensor tokens, Func<string, bool>? namesFilter = null)
    {
        var cache = new ActivationCache();
        try
        {
            using var scope = AddHook(namesFilter ?? (_ => true), (activation, hook) =>
            {
                cache.Store(hook.Name, activation);
                return null;
            });
            return (call(tokens), cache);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>Records only the named activations (full or short names, e.g. <c>"blocks.0.hook_resid_mid"</c>).</summary>
    public (Tensor logits, ActivationCache cache) RunWithCache(Tensor tokens, params string[] names)
    {
        var wanted = names.Select(n => ActivationNames.Get(n)).ToHashSet();
        foreach (var name in wanted) GetHookPoint(name);
        return RunWithCache(tokens, wanted.Contains);
    }

    // ---- Weights stacked over layers, as TransformerLens's model.W_Q etc. ------------------------------------

    public Tensor W_E => embed.W_E;
    public Tensor W_pos => pos_embed.W_pos;
    public Tensor W_U => unembed.W_U;
    public Tensor b_U => unembed.b_U;
    /// <summary>[n_layers, n_heads, d_model, d_head]</summary>
    public Tensor W_Q => Stack(b => b.attn.W_Q);
    public Tensor W_K => Stack(b => b.attn.W_K);
    public Tensor W_V => Stack(b => b.attn.W_V);
    /// <summary>[n_layers, n_heads, d_head, d_model]</summary>
    public Tensor W_O => Stack(b => b.attn.W_O);
    public Tensor b_Q => Stack(b => b.attn.b_Q);
    public Tensor b_K => Stack(b => b.attn.b_K);
    public Tensor b_V => Stack(b => b.attn.b_V);
    public Tensor b_O => Stack(b => b.attn.b_O);
    /// <summary>[n_layers, d_model, d_mlp]</summary>
    public Tensor W_in => Stack(b => MlpOf(b).W_in);
    public Tensor b_in => Stack(b => MlpOf(b).b_in);
    public Tensor W_out => Stack(b => MlpOf(b).W_out);
    public Tensor b_out => Stack(b => MlpOf(b).b_out);

    Tensor Stack(Func<TransformerBlock, Tensor> pick) => stack(blocks.Select(pick).ToArray());

    static Mlp MlpOf(TransformerBlock block) =>
        block.mlp ?? throw new InvalidOperationException("This model is attention-only: it has no MLP weights.");
}
