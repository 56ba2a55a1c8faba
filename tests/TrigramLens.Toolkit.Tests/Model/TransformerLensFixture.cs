using System.Text.Json;
using TrigramLens.Checkpoints;
using TrigramLens.Model;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Model;

/// <summary>
/// One PyTorch reference fixture (tools/fixtures/make_fixtures.py): a TransformerLens state dict, and the tokens, every
/// hook activation, logits and per-token loss of TL's forward pass on it, with the TL config and hook firing order.
/// </summary>
sealed class TransformerLensFixture : IDisposable
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "TransformerLens");

    public static readonly string[] Names = ["ln2l", "trigram", "lnpre_attn_only"];

    readonly Dictionary<string, Tensor> _tensors;

    public TransformerLensFixture(string name)
    {
        Name = name;
        (_tensors, var metadata) = SafetensorsFile.Load(ActivationsPath);
        Metadata = metadata;
        TlConfig = JsonDocument.Parse(metadata["config"]).RootElement.Clone();
        HookOrder = JsonSerializer.Deserialize<string[]>(metadata["hook_order"])!;
        Config = ToConfig(TlConfig);
    }

    public string Name { get; }
    public string WeightsPath => Path.Combine(Directory, $"{Name}.weights.safetensors");
    public string PyTorchWeightsPath => Path.Combine(Directory, $"{Name}.weights.pt");
    string ActivationsPath => Path.Combine(Directory, $"{Name}.activations.safetensors");

    public IReadOnlyDictionary<string, string> Metadata { get; }
    public JsonElement TlConfig { get; }
    /// <summary>The hooks in the order TL's forward fired them, repeats included.</summary>
    public string[] HookOrder { get; }
    /// <summary>TL's config in TrigramLens's terms.</summary>
    public HookedTransformerConfig Config { get; }

    public Tensor Tokens => _tensors["tokens"];
    public Tensor Logits => _tensors["logits"];
    public Tensor LossPerToken => _tensors["loss_per_token"];
    public IEnumerable<string> HookNames => _tensors.Keys.Where(k => k.StartsWith("hook/", StringComparison.Ordinal)).Select(k => k[5..]);
    public Tensor Hook(string name) => _tensors["hook/" + name];

    /// <summary>The activation and normalisation a bare state dict cannot tell, as TL's config has them.</summary>
    public ActivationFunction ActFn => Config.act_fn;
    public NormalizationType Normalization => Config.normalization_type;

    static HookedTransformerConfig ToConfig(JsonElement tl)
    {
        int Int(string key) => tl.GetProperty(key).GetInt32();
        bool Bool(string key) => tl.GetProperty(key).GetBoolean();
        var normalization = tl.GetProperty("normalization_type") switch
        {
            { ValueKind: JsonValueKind.Null } => NormalizationType.None,
            var n when n.GetString() == "LN" => NormalizationType.LN,
            var n when n.GetString() == "LNPre" => NormalizationType.LNPre,
            var n => throw new InvalidDataException($"normalization_type {n}"),
        };
        bool attnOnly = Bool("attn_only");
        return new HookedTransformerConfig(
            n_layers: Int("n_layers"), d_model: Int("d_model"), n_ctx: Int("n_ctx"), d_head: Int("d_head"), d_vocab: Int("d_vocab"),
            n_heads: Int("n_heads"), d_mlp: attnOnly ? -1 : Int("d_mlp"), d_vocab_out: Int("d_vocab_out"),
            act_fn: tl.GetProperty("act_fn").GetString() == "gelu" ? ActivationFunction.Gelu : ActivationFunction.Relu,
            normalization_type: normalization, attn_only: attnOnly,
            use_attn_result: Bool("use_attn_result"), use_split_qkv_input: Bool("use_split_qkv_input"),
            use_hook_tokens: Bool("use_hook_tokens"), eps: tl.GetProperty("eps").GetDouble());
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
    }
}
