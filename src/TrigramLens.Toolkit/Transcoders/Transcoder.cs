using TorchSharp.Modules;
using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Transcoders;

/// <summary>
/// A sparse transcoder (SAELens's <c>Transcoder</c> family): features <c>f = act(x W_enc + b_enc)</c> of the input
/// hook's activation <c>x</c>, and the output hook's activation rebuilt as <c>ŷ = f W_dec + b_dec</c>
/// (+ <c>x W_skip^T</c> for a skip transcoder). Parameters have SAELens's names and shapes. A new transcoder's weights
/// are zero (the trainer initialises them; <see cref="TranscoderFile.Load"/> fills them). Owns its parameters,
/// independent of dispose scopes.
/// </summary>
public sealed class Transcoder : nn.Module<Tensor, Tensor>
{
    public Parameter W_enc;         // [d_in, d_sae]
    public Parameter b_enc;         // [d_sae]
    public Parameter W_dec;         // [d_sae, d_out]
    public Parameter b_dec;         // [d_out]
    public Parameter? W_skip;       // [d_out, d_in], skip transcoders only
    public Parameter? threshold;    // [d_sae], JumpReLU only

    public TranscoderConfig Cfg { get; }

    public Transcoder(TranscoderConfig cfg) : base(nameof(Transcoder))
    {
        TorchRuntime.EnsureLoaded();
        Cfg = cfg;
        W_enc = new Parameter(zeros(cfg.d_in, cfg.d_sae));
        b_enc = new Parameter(zeros(cfg.d_sae));
        W_dec = new Parameter(zeros(cfg.d_sae, cfg.d_out));
        b_dec = new Parameter(zeros(cfg.d_out));
        if (cfg.skip) W_skip = new Parameter(zeros(cfg.d_out, cfg.d_in));
        if (cfg.activation == TranscoderActivation.JumpRelu) threshold = new Parameter(zeros(cfg.d_sae));
        RegisterComponents();
        foreach (var parameter in parameters()) parameter.DetachFromDisposeScope();
    }

    /// <summary>Every parameter by its SAELens name, in the order of <c>sae_weights.safetensors</c>' keys as we write them.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters()
    {
        var list = new List<(string, Parameter)> { ("W_enc", W_enc), ("b_enc", b_enc), ("W_dec", W_dec), ("b_dec", b_dec) };
        if (W_skip is not null) list.Add(("W_skip", W_skip));
        if (threshold is not null) list.Add(("threshold", threshold));
        return list;
    }

    /// <summary>An independent transcoder with the same config and a copy of the weights.</summary>
    public Transcoder Copy()
    {
        var copy = new Transcoder(Cfg);
        using var _ = no_grad();
        foreach (var ((_, target), (_, source)) in copy.NamedParameters().Zip(NamedParameters())) target.copy_(source);
        return copy;
    }

    /// <param name="x">[..., d_in]</param>
    /// <returns><c>x W_enc + b_enc</c> [..., d_sae]</returns>
    public Tensor PreActivations(Tensor x)
    {
        CheckWidth(x, Cfg.d_in, "input");
        return nn.functional.linear(x, W_enc.t(), b_enc);
    }

    /// <summary>Feature activations <c>f</c> [..., d_sae] of inputs <paramref name="x"/> [..., d_in].</summary>
    public Tensor Encode(Tensor x) => Activate(PreActivations(x));

    /// <summary>Feature activations from pre-activations [..., d_sae].</summary>
    public Tensor Activate(Tensor pre) => Cfg.activation switch
    {
        TranscoderActivation.Relu => nn.functional.relu(pre),
        TranscoderActivation.TopK => TopK(pre, Cfg.k!.Value),
        TranscoderActivation.JumpRelu => nn.functional.relu(pre).mul(pre.gt(threshold!).to(pre.dtype)),
        _ => throw new NotSupportedException(Cfg.activation.ToString()),
    };

    /// <summary>SAELens's TopK: the <paramref name="k"/> largest entries of the last dimension, ReLU'd; every other entry 0.</summary>
    public static Tensor TopK(Tensor pre, int k)
    {
        var (values, indices) = pre.topk(k, dim: -1, largest: true, sorted: false);
        return zeros_like(pre).scatter_(-1, indices, nn.functional.relu(values));
    }

    /// <param name="features">[..., d_sae]</param>
    /// <param name="x">the inputs they came from [..., d_in]; read only by a skip transcoder</param>
    /// <returns><c>ŷ</c> [..., d_out]</returns>
    public Tensor Decode(Tensor features, Tensor x)
    {
        CheckWidth(features, Cfg.d_sae, "feature");
        var y = nn.functional.linear(features, W_dec.t(), b_dec);
        return W_skip is null ? y : y.PlusInPlace(nn.functional.linear(x, W_skip));
    }

    /// <param name="x">[..., d_in]</param>
    /// <returns><c>ŷ</c> [..., d_out]</returns>
    public override Tensor forward(Tensor x) => Decode(Encode(x), x);

    /// <summary>The reconstruction and the feature activations it came from.</summary>
    public (Tensor output, Tensor features) ForwardWithActivations(Tensor x)
    {
        var features = Encode(x);
        return (Decode(features, x), features);
    }

    static void CheckWidth(Tensor t, int width, string what)
    {
        if (t.dim() == 0 || t.shape[^1] != width)
            throw new ArgumentException($"the transcoder's {what} width is {width}; got a tensor of shape [{string.Join(", ", t.shape)}]");
    }
}
