using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Runtime;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Transcoders;

/// <summary>What the training loss weighs, for one step (a batch of <see cref="BatchPositions"/> positions).</summary>
/// <param name="Variance">the target's variance <c>E‖y − ȳ‖²</c>, which makes the squared error a fraction of variance</param>
/// <param name="L1">λ of the L1 penalty <c>λ Σ_i f_i ‖W_dec,i‖</c> (ReLU transcoders)</param>
/// <param name="L0">coefficient of the JumpReLU L0 penalty <c>Σ_i H(pre_i − θ_i)</c></param>
/// <param name="Bandwidth">JumpReLU's straight-through bandwidth ε</param>
/// <param name="AuxCoefficient">weight of AuxK (TopK): the residual rebuilt from the <see cref="AuxK"/> largest dead latents</param>
/// <param name="Dead">indices of the features counted dead for AuxK [n_dead] int64, or null for none</param>
internal sealed record LossTerms(long BatchPositions, double Variance, double L1 = 0, double L0 = 0, double Bandwidth = 0.05,
    double AuxCoefficient = 0, int AuxK = 0, Tensor? Dead = null);

/// <summary>One chunk's share of the step: the gradient of every trainable parameter (in <see cref="TranscoderLoss.Parameters"/>
/// order), the loss parts it contributed, and which features fired.</summary>
internal sealed record ChunkGradient(Tensor[] Gradients, double SquaredError, double Penalty, double Aux, long Active, Tensor Fired) : IDisposable
{
    public double Loss(LossTerms terms) => SquaredError / (terms.BatchPositions * terms.Variance) + Penalty + Aux;

    public void Dispose()
    {
        foreach (var g in Gradients) g.Dispose();
        Fired.Dispose();
    }
}

/// <summary>
/// The training loss of a transcoder and its gradient in closed form:
/// <c>Σ‖y − ŷ‖² / (N · Var y)</c> (normalised MSE) plus, by activation, <c>(λ/N) Σ f_i ‖W_dec,i‖</c> (ReLU),
/// <c>(c/N) Σ H(pre − θ)</c> with SAELens's straight-through estimator (JumpReLU, trained as <c>log θ</c>), or AuxK
/// <c>α Σ‖e − ê‖² / (N · Var y)</c> (TopK, <c>e = y − ŷ</c> held fixed, <c>ê</c> from the largest dead latents). A
/// chunk of a step's batch gives its additive share, so chunks can run on separate threads and be summed. TopK steps
/// touch only the selected latents' rows (gathers and index-adds instead of dense products).
/// </summary>
internal static class TranscoderLoss
{
    /// <summary>The tensors training updates, in gradient order: W_enc, b_enc, W_dec, b_dec, [W_skip], [log θ].</summary>
    public static Parameter[] Parameters(Transcoder t, Parameter? logThreshold)
    {
        var list = new List<Parameter> { t.W_enc, t.b_enc, t.W_dec, t.b_dec };
        if (t.W_skip is not null) list.Add(t.W_skip);
        if (logThreshold is not null) list.Add(logThreshold);
        return [.. list];
    }

    /// <param name="x">[n, d_in] chunk inputs</param>
    /// <param name="y">[n, d_out] chunk targets</param>
    public static ChunkGradient Compute(Transcoder t, Tensor? logThreshold, Tensor x, Tensor y, LossTerms terms)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var result = t.Cfg.activation == TranscoderActivation.TopK
            ? TopK(t, x, y, terms)
            : Dense(t, logThreshold, x, y, terms);
        foreach (var g in result.Gradients) g.MoveToOuterDisposeScope();
        result.Fired.MoveToOuterDisposeScope();
        return result;
    }

    static ChunkGradient TopK(Transcoder t, Tensor x, Tensor y, LossTerms terms)
    {
        int k = t.Cfg.k!.Value;
        long n = x.shape[0], dOut = t.Cfg.d_out, dIn = t.Cfg.d_in, m = t.Cfg.d_sae;
        double scale = 2.0 / (terms.BatchPositions * terms.Variance);
        var pre = addmm(t.b_enc, x, t.W_enc, 1, 1);                                      // [n, m]
        var (values, indices) = pre.topk(k, dim: -1, largest: true, sorted: false);
        var a = values.relu();                                                     // [n, k]
        var flatIndex = indices.reshape(-1);
        var rows = t.W_dec.index_select(0, flatIndex).view(n, k, dOut);            // [n, k, d_out]
        var yhat = a.unsqueeze(1).bmm(rows).squeeze(1).add_(t.b_dec, One);              // [n, d_out]
        if (t.W_skip is not null) yhat.add_(x.matmul(t.W_skip.t()), One);
        var r = yhat - y;
        double sse = r.Squared().sum().item<float>();
        using var s = scale.ToScalar();
        var gy = r * s;                                                            // [n, d_out]

        var dWdec = zeros(m, dOut).index_add_(0, flatIndex, (a.unsqueeze(-1) * gy.unsqueeze(1)).view(n * k, dOut), One);
        var dbdec = gy.sum([0]);
        var positive = values.gt(Zero);                                            // [n, k]: selected and active
        var ga = rows.bmm(gy.unsqueeze(-1)).squeeze(-1).mul_(positive);            // [n, k]: dL/dpre of the selected
        var dWencT = zeros(m, dIn).index_add_(0, flatIndex, (ga.unsqueeze(-1) * x.unsqueeze(1)).view(n * k, dIn), One);
        var dbenc = zeros(m).index_add_(0, flatIndex, ga.reshape(-1), One);
        var fired = zeros(m).index_add_(0, flatIndex, positive.reshape(-1).to(ScalarType.Float32), One).gt(Zero);
        long active = positive.sum().item<long>();

        double aux = 0;
        if (terms.AuxCoefficient > 0 && terms.Dead is not null && terms.AuxK > 0)
        {
            // Only the dead columns' pre-activations: a product as wide as the dead set, not the dictionary.
            var deadPre = addmm(t.b_enc.index_select(0, terms.Dead), x, t.W_enc.index_select(1, terms.Dead), 1, 1);   // [n, n_dead]
            var (auxValues, auxLocal) = deadPre.topk(terms.AuxK, dim: -1, largest: true, sorted: false);
            var auxA = auxValues.relu();
            var auxFlat = terms.Dead.index_select(0, auxLocal.reshape(-1));
            var auxRows = t.W_dec.index_select(0, auxFlat).view(n, terms.AuxK, dOut);
            var ehat = auxA.unsqueeze(1).bmm(auxRows).squeeze(1);                 // [n, d_out]
            var diff = ehat.add(r, One);                                                   // ê − e with e = y − ŷ = −r
            double auxScale = terms.AuxCoefficient * scale;
            aux = terms.AuxCoefficient * diff.Squared().sum().item<float>() / (terms.BatchPositions * terms.Variance);
            using var sa = auxScale.ToScalar();
            var ge = diff * sa;
            dWdec.index_add_(0, auxFlat, (auxA.unsqueeze(-1) * ge.unsqueeze(1)).view(n * terms.AuxK, dOut), One);
            var gaux = auxRows.bmm(ge.unsqueeze(-1)).squeeze(-1).mul_(auxValues.gt(Zero));
            dWencT.index_add_(0, auxFlat, (gaux.unsqueeze(-1) * x.unsqueeze(1)).view(n * terms.AuxK, dIn), One);
            dbenc.index_add_(0, auxFlat, gaux.reshape(-1), One);
        }

        var grads = new List<Tensor> { dWencT.t().contiguous(), dbenc, dWdec, dbdec };
        if (t.W_skip is not null) grads.Add(gy.t().matmul(x));
        return new ChunkGradient([.. grads], sse, 0, aux, active, fired);
    }

    /// <summary>ReLU and JumpReLU: one dense product for the pre-activations, then only the active entries (and, for
    /// JumpReLU, those within the threshold's bandwidth) are visited — few per position once the penalty bites.</summary>
    static ChunkGradient Dense(Transcoder t, Tensor? logThreshold, Tensor x, Tensor y, LossTerms terms)
    {
        bool jump = t.Cfg.activation == TranscoderActivation.JumpRelu;
        if (jump && logThreshold is null) throw new ArgumentException("a JumpReLU transcoder trains log θ: pass it");
        long n = x.shape[0], m = t.Cfg.d_sae, dIn = t.Cfg.d_in, dOut = t.Cfg.d_out;
        double scale = 2.0 / (terms.BatchPositions * terms.Variance);
        var pre = addmm(t.b_enc, x, t.W_enc, 1, 1);                                // [n, m]
        Tensor? theta = jump ? logThreshold!.exp() : null;
        var on = (jump ? pre.gt(theta!).logical_and_(pre.gt(Zero)) : pre.gt(Zero)).nonzero();   // [nnz, 2]: where f = pre > 0
        var (row, col) = (on[.., 0], on[.., 1]);
        var f = pre.reshape(-1).index_select(0, row.Times(m).add_(col, One));                    // [nnz]
        var rows = t.W_dec.index_select(0, col);                                   // [nnz, d_out]
        var yhat = zeros(n, dOut).index_add_(0, row, rows * f.unsqueeze(1), One).add_(t.b_dec, One);
        if (t.W_skip is not null) yhat.add_(x.matmul(t.W_skip.t()), One);
        var r = yhat - y;
        double sse = r.Squared().sum().item<float>();
        using var s = scale.ToScalar();
        var gy = r.mul_(s);                                                        // [n, d_out]
        var gyOn = gy.index_select(0, row);                                        // [nnz, d_out]

        var dWdec = zeros(m, dOut).index_add_(0, col, gyOn * f.unsqueeze(1), One);
        var dbdec = gy.sum([0]);
        var gf = (rows * gyOn).sum([1]);                                           // [nnz]: dL/df of the squared error
        double penalty = 0;
        Tensor? dLogTheta = null;
        if (!jump && terms.L1 > 0)
        {
            // (λ/N) Σ_n Σ_i f_ni ‖W_dec,i‖: through f, and through the decoder norms.
            var norms = t.W_dec.Squared().sum([1]).sqrt_();                         // [m]
            var mass = zeros(m).index_add_(0, col, f, One);                        // [m]
            double c = terms.L1 / terms.BatchPositions;
            penalty = c * (mass * norms).sum().item<float>();
            using var cs = c.ToScalar();
            using var tiny = 1e-12.ToScalar();
            gf = gf.add(norms.index_select(0, col).mul_(cs), One);
            dWdec.add_(t.W_dec.mul(mass.div(norms.clamp_min(tiny)).mul_(cs).unsqueeze(1)), One);
        }
        var dWencT = zeros(m, dIn).index_add_(0, col, x.index_select(0, row) * gf.unsqueeze(1), One);
        var dbenc = zeros(m).index_add_(0, col, gf, One);
        if (jump)
        {
            // SAELens's pseudo-derivatives with a rectangle kernel K(u) = [|u| < 1/2], u = (pre − θ)/ε:
            // ∂f/∂θ = −(θ/ε) K, ∂H/∂θ = −(1/ε) K; and ∂/∂ log θ = θ ∂/∂θ. Only entries inside the window contribute.
            double eps = terms.Bandwidth;
            using var halfBand = (eps / 2).ToScalar();
            using var minusInvEps = (-1 / eps).ToScalar();
            var window = (pre - theta!).abs_().lt_(halfBand).nonzero();               // [n_window, 2]
            var (wRow, wCol) = (window[.., 0], window[.., 1]);
            var gfWindow = (t.W_dec.index_select(0, wCol) * gy.index_select(0, wRow)).sum([1]);
            var dTheta = zeros(m).index_add_(0, wCol, gfWindow, One).mul_(theta!).mul_(minusInvEps);
            if (terms.L0 > 0)
            {
                double c = terms.L0 / terms.BatchPositions;
                penalty = c * on.shape[0];
                using var cl = (-c / eps).ToScalar();
                dTheta.add_(zeros(m).index_add_(0, wCol, ones(wCol.shape[0]), One).mul_(cl), One);
            }
            dLogTheta = dTheta.mul_(theta!);
        }
        var fired = zeros(m).index_add_(0, col, ones(col.shape[0]), One).gt(Zero);
        long active = on.shape[0];
        var grads = new List<Tensor> { dWencT.t().contiguous(), dbenc, dWdec, dbdec };
        if (t.W_skip is not null) grads.Add(gy.t().matmul(x));
        if (dLogTheta is not null) grads.Add(dLogTheta);
        return new ChunkGradient([.. grads], sse, penalty, 0, active, fired);
    }

}
