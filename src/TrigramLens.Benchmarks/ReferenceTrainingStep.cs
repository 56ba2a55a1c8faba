using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Model;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Benchmarks;

/// <summary>
/// A deliberately plain training step, written from the architecture's definition and sharing no code with
/// <see cref="HookedTransformer"/>: separate Q, K and V matmuls per head, a masked softmax, the MLP and unembedding as
/// matmul-plus-bias, cross-entropy of <c>logits[:, :-1]</c> against <c>tokens[:, 1:]</c>, and TorchSharp's AdamW. It
/// trains its own copy of a model's weights. Used as the baseline of the throughput benchmark and as an independent
/// check of the library's loss and gradients. Models without LayerNorm only. (Additions pass a held <c>alpha</c>, as all
/// of the project's code does: see <see cref="Runtime.HeldScalars"/>.)
/// </summary>
public sealed class ReferenceTrainingStep : IDisposable
{
    readonly HookedTransformerConfig _cfg;
    readonly Dictionary<string, Parameter> _parameters;
    readonly AdamW _optimizer;
    readonly Tensor _causal;   // [n_ctx, n_ctx] bool, true above the diagonal (keys after the query)
    // Held for the step's lifetime: a temporary scalar can be freed by the garbage collector while libtorch reads it.
    readonly Scalar _scale, _masked;

    public ReferenceTrainingStep(HookedTransformer source, double weightDecay = 0)
    {
        if (source.Cfg.normalization_type != NormalizationType.None)
            throw new ArgumentException("the reference step covers models without LayerNorm only");
        _cfg = source.Cfg;
        using var _ = no_grad();
        _parameters = source.named_parameters().ToDictionary(p => p.name, p => new Parameter(p.parameter.detach().clone()));
        foreach (var p in _parameters.Values) p.DetachFromDisposeScope();
        _optimizer = optim.AdamW(_parameters.Values, lr: 1e-3, weight_decay: weightDecay);
        foreach (AdamW.State s in _optimizer.state_dict().State)
        {
            s.exp_avg.DetachFromDisposeScope();
            s.exp_avg_sq.DetachFromDisposeScope();
        }
        _causal = ones(_cfg.n_ctx, _cfg.n_ctx, ScalarType.Bool).triu(1).DetachFromDisposeScope();
        _scale = Math.Sqrt(_cfg.d_head).ToScalar();
        _masked = float.NegativeInfinity.ToScalar();
    }

    /// <summary>The weights being trained, by TransformerLens name.</summary>
    public IReadOnlyDictionary<string, Parameter> Parameters => _parameters;

    Tensor P(string name) => _parameters[name];

    /// <summary>The mean next-token loss of <paramref name="tokens"/> [batch, pos], with autograd.</summary>
    public Tensor Loss(Tensor tokens)
    {
        long batch = tokens.shape[0], pos = tokens.shape[1];
        var resid = P("embed.W_E")[tokens].add(P("pos_embed.W_pos")[..(int)pos], One);
        var mask = _causal[..(int)pos, ..(int)pos];
        for (int layer = 0; layer < _cfg.n_layers; layer++)
        {
            string a = $"blocks.{layer}.attn.";
            var attnOut = P(a + "b_O").expand(batch, pos, _cfg.d_model);
            for (int head = 0; head < _cfg.n_heads; head++)
            {
                var q = matmul(resid, P(a + "W_Q")[head]).add(P(a + "b_Q")[head], One);      // [batch, pos, d_head]
                var k = matmul(resid, P(a + "W_K")[head]).add(P(a + "b_K")[head], One);
                var v = matmul(resid, P(a + "W_V")[head]).add(P(a + "b_V")[head], One);
                var scores = matmul(q, k.transpose(1, 2)).div(_scale);              // [batch, q_pos, k_pos]
                var pattern = scores.masked_fill(mask, _masked).softmax(-1);
                attnOut = attnOut.add(matmul(matmul(pattern, v), P(a + "W_O")[head]), One);
            }
            resid = resid.add(attnOut, One);
            if (_cfg.attn_only) continue;
            string m = $"blocks.{layer}.mlp.";
            var pre = matmul(resid, P(m + "W_in")).add(P(m + "b_in"), One);
            var post = _cfg.act_fn == ActivationFunction.Relu ? nn.functional.relu(pre) : nn.functional.gelu(pre);
            resid = resid.add(matmul(post, P(m + "W_out")), One).add(P(m + "b_out"), One);
        }
        var logits = matmul(resid, P("unembed.W_U")).add(P("unembed.b_U"), One);
        long vocab = logits.shape[2];
        return nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, vocab), tokens[.., 1..].reshape(-1));
    }

    /// <summary>One AdamW step at <paramref name="learningRate"/>; returns the loss before it.</summary>
    public double Step(Tensor tokens, double learningRate)
    {
        using var scope = NewDisposeScope();
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = learningRate;
        var loss = Loss(tokens);
        _optimizer.zero_grad();
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        foreach (var p in _parameters.Values) p.Dispose();
        _causal.Dispose();
        _scale.Dispose();
        _masked.Dispose();
    }
}
