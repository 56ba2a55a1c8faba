namespace TrigramLens.Transcoders;

/// <summary>
/// The shape of a <see cref="Transcoder"/> and where it sits in a model, with SAELens's field names: it reads
/// <see cref="hook_name"/> (<c>d_in</c> wide) and stands in for <see cref="hook_name_out"/> (<c>d_out</c> wide) through
/// <c>d_sae</c> features. Validated when created.
/// </summary>
public sealed record TranscoderConfig
{
    public int d_in { get; }
    public int d_sae { get; }
    public int d_out { get; }
    public TranscoderActivation activation { get; }
    /// <summary>Active features per position of a TopK transcoder; null otherwise.</summary>
    public int? k { get; }
    /// <summary>Adds a linear skip path <c>x W_skip^T</c> (<c>W_skip [d_out, d_in]</c>) to the output.</summary>
    public bool skip { get; }
    public string hook_name { get; }
    public string hook_name_out { get; }
    public string? model_name { get; }

    public TranscoderConfig(int d_in, int d_sae, int d_out, TranscoderActivation activation, string hook_name, string hook_name_out,
        int? k = null, bool skip = false, string? model_name = null)
    {
        Require(d_in >= 1 && d_sae >= 1 && d_out >= 1, $"d_in, d_sae and d_out must be positive (got {d_in}, {d_sae}, {d_out})");
        Require(Enum.IsDefined(activation), $"activation {(int)activation} is not relu, topk or jumprelu");
        if (activation == TranscoderActivation.TopK)
            Require(k is >= 1 && k <= d_sae, $"a TopK transcoder needs 1 <= k <= d_sae = {d_sae} (got {k?.ToString() ?? "none"})");
        else
            Require(k is null, $"k applies to TopK transcoders only (this one is {activation})");
        Require(!string.IsNullOrWhiteSpace(hook_name), "hook_name (the input hook) must be given");
        Require(!string.IsNullOrWhiteSpace(hook_name_out), "hook_name_out (the output hook) must be given");
        this.d_in = d_in;
        this.d_sae = d_sae;
        this.d_out = d_out;
        this.activation = activation;
        this.k = k;
        this.skip = skip;
        this.hook_name = hook_name;
        this.hook_name_out = hook_name_out;
        this.model_name = model_name;
    }

    /// <summary>
    /// SAELens's <c>architecture</c> string: <c>transcoder</c>, <c>skip_transcoder</c>, <c>jumprelu_transcoder</c>,
    /// <c>jumprelu_skip_transcoder</c>; SAELens has no TopK transcoder, so TopK ones are <c>topk_transcoder</c> and
    /// <c>topk_skip_transcoder</c> (named as SAELens names the JumpReLU ones; see docs/transcoders.md).
    /// </summary>
    public string architecture => (activation, skip) switch
    {
        (TranscoderActivation.Relu, false) => "transcoder",
        (TranscoderActivation.Relu, true) => "skip_transcoder",
        (TranscoderActivation.JumpRelu, false) => "jumprelu_transcoder",
        (TranscoderActivation.JumpRelu, true) => "jumprelu_skip_transcoder",
        (TranscoderActivation.TopK, false) => "topk_transcoder",
        (TranscoderActivation.TopK, true) => "topk_skip_transcoder",
        _ => throw new InvalidOperationException(activation.ToString()),
    };

    /// <summary>The inverse of <see cref="architecture"/>; null for a string that names none of them.</summary>
    public static (TranscoderActivation activation, bool skip)? ParseArchitecture(string architecture) => architecture switch
    {
        "transcoder" => (TranscoderActivation.Relu, false),
        "skip_transcoder" => (TranscoderActivation.Relu, true),
        "jumprelu_transcoder" => (TranscoderActivation.JumpRelu, false),
        "jumprelu_skip_transcoder" => (TranscoderActivation.JumpRelu, true),
        "topk_transcoder" => (TranscoderActivation.TopK, false),
        "topk_skip_transcoder" => (TranscoderActivation.TopK, true),
        _ => null,
    };

    public static IReadOnlyList<string> Architectures { get; } =
        ["transcoder", "skip_transcoder", "jumprelu_transcoder", "jumprelu_skip_transcoder", "topk_transcoder", "topk_skip_transcoder"];

    static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException("Invalid transcoder config: " + message);
    }
}
