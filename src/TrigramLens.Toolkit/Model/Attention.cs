using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Hooks;
using TrigramLens.Kernels;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Model;

/// <summary>
/// Causal multi-head attention with TransformerLens's parameters, buffers and hooks.
/// Scores are <c>q·k / sqrt(d_head)</c>; masked scores are <c>IGNORE</c> (−inf).
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    // Declared in TransformerLens's registration order, so a seeded init draws the same numbers in the same order.
    public Parameter W_Q;   // [n_heads, d_model, d_head]
    public Parameter W_O;   // [n_heads, d_head, d_model]
    public Parameter b_Q;   // [n_heads, d_head]
    public Parameter b_O;   // [d_model]
    public Parameter W_K;
    public Parameter W_V;
    public Parameter b_K;
    public Parameter b_V;
    public Tensor mask;     // [n_ctx, n_ctx] bool, true where a query may attend to a key
    public Tensor IGNORE;   // scalar −inf

    public HookPoint hook_k = new();            // [batch, pos, head, d_head]
    public HookPoint hook_q = new();
    public HookPoint hook_v = new();
    public HookPoint hook_z = new();
    public HookPoint hook_attn_scores = new();  // [batch, head, q_pos, k_pos]
    public HookPoint hook_pattern = new();
    public HookPoint hook_result = new();       // [batch, pos, head, d_model], only with use_attn_result

    readonly HookedTransformerConfig _cfg;
    // A native scalar handed to libtorch on every forward: held by the module, so that the garbage collector cannot
    // free it while libtorch reads it (as it may free a temporary made by an implicit conversion).
    readonly Scalar _scale;

    public Attention(HookedTransformerConfig cfg) : base(nameof(Attention))
    {
        _cfg = cfg;
        _scale = Math.Sqrt(cfg.d_head).ToScalar();
        W_Q = new Parameter(empty(cfg.n_heads, cfg.d_model, cfg.d_head));
        W_O = new Parameter(empty(cfg.n_heads, cfg.d_head, cfg.d_model));
        b_Q = new Parameter(zeros(cfg.n_heads, cfg.d_head));
        b_O = new Parameter(zeros(cfg.d_model));
        W_K = new Parameter(empty(cfg.n_heads, cfg.d_model, cfg.d_head));
        W_V = new Parameter(empty(cfg.n_heads, cfg.d_model, cfg.d_head));
        b_K = new Parameter(zeros(cfg.n_heads, cfg.d_head));
        b_V = new Parameter(zeros(cfg.n_heads, cfg.d_head));
        mask = ones(cfg.n_ctx, cfg.n_ctx, ScalarType.Bool).tril();
        IGNORE = tensor(float.NegativeInfinity);
        RegisterComponents();
    }

    /// <summary>
    /// Inputs are <c>[batch, pos, d_model]</c>, or <c>[batch, pos, head, d_model]</c> when the block splits them per head
    /// (<c>use_split_qkv_input</c>). Returns <c>[batch, pos, d_model]</c>, including <c>b_O</c>.
    /// </summary>
    public override Tensor forward(Tensor queryInput, Tensor keyInput, Tensor valueInput)
    {
        if (HandWrittenKernels.Active && !InternalsHooked && queryInput.dim() == 3
            && ReferenceEquals(queryInput, keyInput) && ReferenceEquals(keyInput, valueInput))
            return FastForward(queryInput);

        var (q, k, v) = Project(queryInput, keyInput, valueInput);
        q = hook_q.call(q);
        k = hook_k.call(k);
        v = hook_v.call(v);

        long pos = q.shape[1];
        var scores = matmul(q.transpose(1, 2), k.permute(0, 2, 3, 1)).div_(_scale);      // [batch, head, q_pos, k_pos]
        var causal = mask.narrow(0, 0, pos).narrow(1, 0, pos);
        scores = hook_attn_scores.call(where(causal, scores, IGNORE));
        // Causal masking always leaves the diagonal, so no row is fully masked and softmax cannot give NaN.
        var pattern = hook_pattern.call(scores.softmax(-1));
        var z = hook_z.call(matmul(pattern, v.transpose(1, 2)).transpose(1, 2));          // [batch, pos, head, d_head]

        if (_cfg.use_attn_result)
        {
            var result = hook_result.call(einsum("bphd,hdm->bphm", z, W_O));
            return result.sum(2).add_(b_O, One);
        }
        long batch = z.shape[0];
        return matmul(z.reshape(batch, pos, _cfg.n_heads * _cfg.d_head), W_O.reshape(_cfg.n_heads * _cfg.d_head, _cfg.d_model))
            .add_(b_O, One);
    }

    /// <summary>True when a hook is attached inside the attention, so the hooked path must run even for the trainer.</summary>
    bool InternalsHooked =>
        hook_q.HasHooks || hook_k.HasHooks || hook_v.HasHooks || hook_attn_scores.HasHooks || hook_pattern.HasHooks
        || hook_z.HasHooks || hook_result.HasHooks;

    /// <summary>
    /// The same function without materialising any hooked activation: the trainer's path, taken only inside
    /// <see cref="HandWrittenKernels.Use"/> (it agrees with the hooked path to float rounding, not bit for bit). Where
    /// <see cref="CausalAttentionKernel"/> takes the input (float32, <c>d_head</c> a multiple of 8, up to 128 positions):
    /// Q, K and V from one matmul over all heads and the kernel on that fused projection. Otherwise Q, K and V each from
    /// one contiguous matmul and libtorch's fused causal attention (<c>scaled_dot_product_attention</c>, scale
    /// <c>1 / sqrt(d_head)</c> as TL's). Either way the heads' outputs are summed by one matmul with <c>W_O</c> (equal to
    /// summing <c>hook_result</c>). Neither forms the <c>[batch, head, q_pos, k_pos]</c> scores or pattern as
    /// tensors of the graph, which is what makes their backward cheap.
    /// </summary>
    /// <param name="x">[batch, pos, d_model]</param>
    Tensor FastForward(Tensor x)
    {
        long batch = x.shape[0], pos = x.shape[1];
        int h = _cfg.n_heads, d = _cfg.d_head;
        var flat = x.reshape(batch * pos, _cfg.d_model);
        Tensor Columns(Tensor w) => w.permute(1, 0, 2).reshape(_cfg.d_model, h * d);                    // [d_model, head · d_head]
        Tensor z;                                                                                          // [batch · pos, head · d_head]
        if (CausalAttentionKernel.Supports(x, h, d))
        {
            var qkv = addmm(cat([b_Q.reshape(h * d), b_K.reshape(h * d), b_V.reshape(h * d)]), flat,
                cat([Columns(W_Q), Columns(W_K), Columns(W_V)], 1), 1, 1);                              // [batch · pos, 3 · head · d_head]
            z = CausalAttentionKernel.Compute(qkv.view(batch, pos, 3 * h * d), h).view(batch * pos, h * d);
        }
        else
        {
            Tensor Heads(Tensor w, Tensor b) =>                                                           // [batch, head, pos, d_head]
                addmm(b.reshape(h * d), flat, Columns(w), 1, 1).view(batch, pos, h, d).transpose(1, 2);
            z = nn.functional.scaled_dot_product_attention(Heads(W_Q, b_Q), Heads(W_K, b_K), Heads(W_V, b_V), is_casual: true)
                .transpose(1, 2).reshape(batch * pos, h * d);
        }
        return addmm(b_O, z, W_O.reshape(h * d, _cfg.d_model), 1, 1).view(batch, pos, _cfg.d_model);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _scale.Dispose();
        base.Dispose(disposing);
    }

    (Tensor q, Tensor k, Tensor v) Project(Tensor queryInput, Tensor keyInput, Tensor valueInput)
    {
        if (queryInput.dim() == 4)
            return (PerHead(queryInput, W_Q, b_Q), PerHead(keyInput, W_K, b_K), PerHead(valueInput, W_V, b_V));

        if (ReferenceEquals(queryInput, keyInput) && ReferenceEquals(keyInput, valueInput))
        {
            // One matmul for Q, K and V: [batch, pos, d_model] @ [d_model, 3 * head * d_head].
            long batch = queryInput.shape[0], pos = queryInput.shape[1];
            int h = _cfg.n_heads, d = _cfg.d_head;
            var w = cat([W_Q, W_K, W_V], 0).permute(1, 0, 2).reshape(_cfg.d_model, 3 * h * d);
            var bias = cat([b_Q, b_K, b_V], 0).reshape(3 * h * d);
            var qkv = matmul(queryInput, w).add_(bias, One).view(batch, pos, 3, h, d);
            return (qkv.select(2, 0), qkv.select(2, 1), qkv.select(2, 2));
        }
        return (Shared(queryInput, W_Q, b_Q), Shared(keyInput, W_K, b_K), Shared(valueInput, W_V, b_V));
    }

    /// <summary>[batch, pos, d_model] through one head-stacked weight: [batch, pos, head, d_head].</summary>
    static Tensor Shared(Tensor x, Tensor w, Tensor b) => einsum("bpm,hmd->bphd", x, w).add_(b, One);

    /// <summary>[batch, pos, head, d_model], a separate input per head: [batch, pos, head, d_head].</summary>
    static Tensor PerHead(Tensor x, Tensor w, Tensor b) => einsum("bphm,hmd->bphd", x, w).add_(b, One);
}
