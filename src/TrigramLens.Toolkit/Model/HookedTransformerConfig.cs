using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrigramLens.Model;

/// <summary>
/// The architecture of a <see cref="HookedTransformer"/>, with TransformerLens's field names and defaults
/// (<c>n_heads = d_model / d_head</c>, <c>d_mlp = 4 d_model</c> (TL's <c>None</c> is <c>-1</c> here), <c>d_vocab_out = d_vocab</c>,
/// <c>initializer_range = 0.8 / sqrt(d_model)</c>). Validated when created; immutable afterwards.
/// </summary>
public sealed record HookedTransformerConfig
{
    public int n_layers { get; }
    public int d_model { get; }
    public int n_ctx { get; }
    public int d_head { get; }
    public int n_heads { get; }
    /// <summary>Zero for attention-only models; <c>-1</c> when creating means <c>4 d_model</c>.</summary>
    public int d_mlp { get; }
    public int d_vocab { get; }
    public int d_vocab_out { get; }
    public ActivationFunction act_fn { get; }
    public NormalizationType normalization_type { get; }
    public bool attn_only { get; }
    public bool use_attn_result { get; }
    public bool use_split_qkv_input { get; }
    public bool use_hook_tokens { get; }
    public int? seed { get; }
    public double initializer_range { get; }
    /// <summary>LayerNorm epsilon.</summary>
    public double eps { get; }

    [JsonConstructor]
    public HookedTransformerConfig(
        int n_layers,
        int d_model,
        int n_ctx,
        int d_head,
        int d_vocab,
        int n_heads = -1,
        int d_mlp = -1,
        int d_vocab_out = -1,
        ActivationFunction act_fn = ActivationFunction.Relu,
        NormalizationType normalization_type = NormalizationType.LN,
        bool attn_only = false,
        bool use_attn_result = false,
        bool use_split_qkv_input = false,
        bool use_hook_tokens = false,
        int? seed = null,
        double initializer_range = -1,
        double eps = 1e-5)
    {
        Require(n_layers >= 1, $"n_layers must be at least 1 (got {n_layers})");
        Require(d_model >= 1, $"d_model must be positive (got {d_model})");
        Require(n_ctx >= 1, $"n_ctx must be positive (got {n_ctx})");
        Require(d_head >= 1, $"d_head must be positive (got {d_head})");
        Require(d_vocab >= 1, $"d_vocab must be positive (got {d_vocab})");
        if (n_heads == -1)
        {
            Require(d_model % d_head == 0, $"n_heads not given and d_model ({d_model}) is not a multiple of d_head ({d_head})");
            n_heads = d_model / d_head;
        }
        Require(n_heads >= 1, $"n_heads must be positive or -1 (got {n_heads})");
        int mlp = attn_only ? 0 : d_mlp == -1 ? 4 * d_model : d_mlp;
        Require(attn_only || mlp >= 1, $"d_mlp must be positive (got {mlp})");
        if (d_vocab_out == -1) d_vocab_out = d_vocab;
        Require(d_vocab_out >= 1, $"d_vocab_out must be positive or -1 (got {d_vocab_out})");
        if (initializer_range < 0) initializer_range = 0.8 / Math.Sqrt(d_model);
        Require(double.IsFinite(initializer_range), "initializer_range must be finite");
        Require(eps > 0, $"eps must be positive (got {eps})");
        Require(Enum.IsDefined(act_fn), $"act_fn {(int)act_fn} is not relu or gelu");
        Require(Enum.IsDefined(normalization_type), $"normalization_type {(int)normalization_type} is not none, LN or LNPre");

        this.n_layers = n_layers;
        this.d_model = d_model;
        this.n_ctx = n_ctx;
        this.d_head = d_head;
        this.n_heads = n_heads;
        this.d_mlp = mlp;
        this.d_vocab = d_vocab;
        this.d_vocab_out = d_vocab_out;
        this.act_fn = act_fn;
        this.normalization_type = normalization_type;
        this.attn_only = attn_only;
        this.use_attn_result = use_attn_result;
        this.use_split_qkv_input = use_split_qkv_input;
        this.use_hook_tokens = use_hook_tokens;
        this.seed = seed;
        this.initializer_range = initializer_range;
        this.eps = eps;
    }

    static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException("Invalid HookedTransformerConfig: " + message);
    }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a config written by <see cref="ToJson"/>; validation errors name the field.</summary>
    public static HookedTransformerConfig FromJson(string json) =>
        JsonSerializer.Deserialize<HookedTransformerConfig>(json, Json)
        ?? throw new ArgumentException("Invalid HookedTransformerConfig: empty JSON");
}
