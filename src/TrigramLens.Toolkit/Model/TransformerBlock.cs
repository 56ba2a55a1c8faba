using TrigramLens.Hooks;
using TrigramLens.Kernels;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Model;

/// <summary>One residual block: attention, then (unless <c>attn_only</c>) the MLP, each added to the residual stream.</summary>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    public LayerNorm? ln1;
    public LayerNorm? ln2;
    public Attention attn;
    public Mlp? mlp;

    public HookPoint hook_resid_pre = new();    // [batch, pos, d_model]
    public HookPoint? hook_q_input;             // [batch, pos, head, d_model], only with use_split_qkv_input
    public HookPoint? hook_k_input;
    public HookPoint? hook_v_input;
    public HookPoint hook_attn_out = new();
    public HookPoint? hook_resid_mid;
    public HookPoint? hook_mlp_out;
    public HookPoint hook_resid_post = new();

    readonly HookedTransformerConfig _cfg;

    public TransformerBlock(HookedTransformerConfig cfg) : base(nameof(TransformerBlock))
    {
        _cfg = cfg;
        if (cfg.normalization_type != NormalizationType.None)
        {
            ln1 = new LayerNorm(cfg, cfg.d_model);
            if (!cfg.attn_only) ln2 = new LayerNorm(cfg, cfg.d_model);
        }
        attn = new Attention(cfg);
        if (!cfg.attn_only)
        {
            mlp = new Mlp(cfg);
            hook_resid_mid = new HookPoint();
            hook_mlp_out = new HookPoint();
        }
        if (cfg.use_split_qkv_input)
        {
            hook_q_input = new HookPoint();
            hook_k_input = new HookPoint();
            hook_v_input = new HookPoint();
        }
        RegisterComponents();
    }

    /// <param name="residPre">[batch, pos, d_model]</param>
    /// <returns>[batch, pos, d_model]</returns>
    public override Tensor forward(Tensor residPre)
    {
        residPre = hook_resid_pre.call(residPre);

        Tensor attnOut;
        // TransformerLens's choice: the config, not the hooks, decides whether each head gets its own copy. Only the
        // trainer's kernels take the shared input when nothing can observe the copies (they are all equal).
        if (_cfg.use_split_qkv_input && !(HandWrittenKernels.Active && !SplitInputsHooked))
        {
            // Materialised once, so that hooked and unhooked runs feed the projections the same memory layout.
            var perHead = residPre.unsqueeze(2).expand(-1, -1, _cfg.n_heads, -1).contiguous();   // [batch, pos, head, d_model]
            var q = hook_q_input!.CallShared(perHead);
            var k = hook_k_input!.CallShared(perHead);
            var v = hook_v_input!.CallShared(perHead);
            attnOut = attn.call(Normalize1(q), Normalize1(k), Normalize1(v));
        }
        else
        {
            var x = Normalize1(residPre);
            attnOut = attn.call(x, x, x);
        }
        attnOut = hook_attn_out.call(attnOut);

        if (mlp is null) return hook_resid_post.call(residPre.add(attnOut, One));

        var residMid = hook_resid_mid!.call(residPre.add(attnOut, One));
        var mlpOut = hook_mlp_out!.call(mlp.call(ln2 is null ? residMid : ln2.call(residMid)));
        return hook_resid_post.call(residMid.add(mlpOut, One));
    }

    /// <summary>
    /// With split inputs, each head gets its own copy of the residual (and ln1 runs once per copy). Unless a hook can
    /// observe or change a copy, they are all equal, and the trainer's kernels take one shared input instead.
    /// </summary>
    bool SplitInputsHooked =>
        hook_q_input!.HasHooks || hook_k_input!.HasHooks || hook_v_input!.HasHooks
        || ln1 is not null && (ln1.hook_scale.HasHooks || ln1.hook_normalized.HasHooks);

    Tensor Normalize1(Tensor x) => ln1 is null ? x : ln1.call(x);
}
