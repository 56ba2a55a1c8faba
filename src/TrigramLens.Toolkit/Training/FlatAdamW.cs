using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TrigramLens.Runtime.HeldScalars;

namespace TrigramLens.Training;

/// <summary>
/// AdamW over all of a model's parameters as one tensor. The constructor moves the parameters' data into one flat
/// buffer (each parameter becomes a view of its slice, so the model, its state dict and in-place writes such as a
/// loaded checkpoint all read and write the buffer), and each step updates the buffer with a handful of kernels from
/// the gradients gathered into one tensor. AdamW over the separate tensors launches about ten small kernels per
/// tensor, each costing more in call overhead than in arithmetic. The update is TorchSharp's AdamW, operation for
/// operation, so the parameters follow the same arithmetic as with TorchSharp's per-tensor AdamW, bit for bit (test:
/// <c>FlatAdamWTests</c>); it is written out here because TorchSharp's passes libtorch scalars made by implicit
/// conversions, which the garbage collector may free while libtorch still reads them. One optimizer per model at a
/// time: a second one moves the parameters into its own buffer, and the first then refuses to step.
/// </summary>
internal sealed class FlatAdamW : IDisposable
{
    readonly Parameter[] _parameters;
    readonly long[] _sizes;
    readonly long[] _offsets;       // where each parameter's slice starts in the buffer
    readonly Parameter _flat;       // [total numel]: the parameters' storage
    readonly Tensor _expAvg;        // [total numel], Adam's first moment
    readonly Tensor _expAvgSq;      // [total numel], Adam's second moment
    readonly double _beta1, _beta2, _eps, _weightDecay;
    long _step;

    public FlatAdamW(IReadOnlyList<Parameter> parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        if (parameters.Count == 0) throw new ArgumentException("no parameters to optimise");
        _parameters = parameters.ToArray();
        _sizes = _parameters.Select(p => p.numel()).ToArray();
        _offsets = new long[_sizes.Length];
        for (int i = 1; i < _sizes.Length; i++) _offsets[i] = _offsets[i - 1] + _sizes[i - 1];
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            _flat = new Parameter(Flatten(_parameters));
            _flat.DetachFromDisposeScope();
            for (int i = 0; i < _parameters.Length; i++) _parameters[i].set_(Slice(_flat, i));
        }
        // The moments live as long as this optimizer, not as the caller's dispose scope.
        _expAvg = zeros_like(_flat).DetachFromDisposeScope();
        _expAvgSq = zeros_like(_flat).DetachFromDisposeScope();
        (_beta1, _beta2, _eps, _weightDecay) = (beta1, beta2, eps, weightDecay);
    }

    /// <summary>Forgets every parameter's gradient (the next backward starts from zero).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.grad?.zero_();
    }

    /// <summary>One AdamW step at <paramref name="learningRate"/> from the gradients the parameters hold.</summary>
    public void Step(double learningRate)
    {
        using var scope = NewDisposeScope();
        Step(learningRate, Flatten(_parameters.Select((p, i) =>
            p.grad is { IsInvalid: false } g ? g : throw new InvalidOperationException($"parameter {i} has no gradient"))));
    }

    /// <summary>One AdamW step at <paramref name="learningRate"/> from <paramref name="gradient"/>: every parameter's
    /// gradient, flattened and concatenated in parameter order (<see cref="Flatten"/>) [total numel].</summary>
    public void Step(double learningRate, Tensor gradient)
    {
        if (gradient.dim() != 1 || gradient.shape[0] != _flat.shape[0] || gradient.dtype != _flat.dtype)
            throw new ArgumentException($"a flat gradient is [{_flat.shape[0]}] {_flat.dtype}; got [{string.Join(", ", gradient.shape)}] {gradient.dtype}");
        if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(_parameters[0].bytes), ref MemoryMarshal.GetReference(_flat.bytes)))
            throw new InvalidOperationException("the parameters have moved to another optimizer's buffer (one FlatAdamW per model at a time)");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        _step++;
        double biasCorrection1 = 1 - Math.Pow(_beta1, _step), biasCorrection2 = 1 - Math.Pow(_beta2, _step);
        // Every scalar is made explicitly and held until the step ends (see the class summary).
        using var decay = (1 - learningRate * _weightDecay).ToScalar();
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var sqrtCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var eps = _eps.ToScalar();
        using var stepSize = (-(learningRate / biasCorrection1)).ToScalar();
        _flat.mul_(decay);
        _expAvg.mul_(beta1).add_(gradient, alpha: oneMinusBeta1);
        _expAvgSq.mul_(beta2).addcmul_(gradient, gradient, value: oneMinusBeta2);
        var denominator = _expAvgSq.sqrt().div_(sqrtCorrection2).add_(eps, One);
        _flat.addcdiv_(_expAvg, denominator, value: stepSize);
    }

    /// <summary>A copy of parameter <paramref name="index"/>'s moments, shaped as the parameter.</summary>
    public AdamMoments Moments(int index)
    {
        Tensor Copy(Tensor flat) => Slice(flat, index).clone().DetachFromDisposeScope();
        return new AdamMoments(_step, Copy(_expAvg), Copy(_expAvgSq));
    }

    /// <summary>Parameter <paramref name="index"/>'s part of a flat tensor, shaped as the parameter.</summary>
    Tensor Slice(Tensor flat, int index) => flat.narrow(0, _offsets[index], _sizes[index]).view(_parameters[index].shape);

    /// <summary>Sets every parameter's moments (in parameter order); all must share one step count.</summary>
    public void SetMoments(IReadOnlyList<AdamMoments> moments)
    {
        if (moments.Count != _parameters.Length)
            throw new ArgumentException($"{moments.Count} moments for {_parameters.Length} parameters");
        if (moments.Select(m => m.Step).Distinct().Count() > 1)
            throw new ArgumentException("moments of one optimizer must share one step count");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        _step = moments[0].Step;
        _expAvg.copy_(Flatten(moments.Select(m => m.ExpAvg)));
        _expAvgSq.copy_(Flatten(moments.Select(m => m.ExpAvgSq)));
    }

    /// <summary>The tensors flattened and concatenated, in order.</summary>
    public static Tensor Flatten(IEnumerable<Tensor> tensors) => cat(tensors.Select(t => t.reshape(-1)).ToList());

    public void Dispose()
    {
        _expAvg.Dispose();
        _expAvgSq.Dispose();
        _flat.Dispose();
    }
}
