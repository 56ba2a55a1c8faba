using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrigramLens.Training;

/// <summary>
/// AdamW over all of a model's parameters as one tensor. The constructor moves the parameters' data into one flat
/// buffer (each parameter becomes a view of its slice, so the model, its state dict and in-place writes such as a
/// loaded checkpoint all read and write the buffer), and each step TorchSharp's AdamW updates the buffer with a
/// handful of kernels from the gradients gathered into one tensor. AdamW over the separate tensors launches about ten
/// small kernels per tensor, each costing more in call overhead than in arithmetic. Adam is elementwise, so the
/// parameters follow the same arithmetic as with per-tensor AdamW, bit for bit (test: <c>FlatAdamWTests</c>). One
/// optimizer per model at a time: a second one moves the parameters into its own buffer, and the first then refuses
/// to step.
/// </summary>
public sealed class FlatAdamW : IDisposable
{
    readonly Parameter[] _parameters;
    readonly long[] _sizes;
    readonly long[] _offsets;       // where each parameter's slice starts in the buffer
    readonly Parameter _flat;       // [total numel]: the parameters' storage
    readonly AdamW _optimizer;

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
        _optimizer = optim.AdamW([_flat], lr: 0, beta1: beta1, beta2: beta2, eps: eps, weight_decay: weightDecay);
        // AdamW allocates its moments now; they live as long as this optimizer, not as the caller's dispose scope.
        var state = State;
        state.exp_avg.DetachFromDisposeScope();
        state.exp_avg_sq.DetachFromDisposeScope();
    }

    AdamW.State State => (AdamW.State)_optimizer.state_dict().State[0];

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
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = learningRate;
        _flat.grad = gradient;
        _optimizer.step();
        _flat.grad = null;
    }

    /// <summary>A copy of parameter <paramref name="index"/>'s moments, shaped as the parameter.</summary>
    public AdamMoments Moments(int index)
    {
        var state = State;
        Tensor Copy(Tensor flat) => Slice(flat, index).clone().DetachFromDisposeScope();
        return new AdamMoments(state.step, Copy(state.exp_avg), Copy(state.exp_avg_sq));
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
        var state = State;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        state.step = moments[0].Step;
        state.exp_avg.copy_(Flatten(moments.Select(m => m.ExpAvg)));
        state.exp_avg_sq.copy_(Flatten(moments.Select(m => m.ExpAvgSq)));
    }

    /// <summary>The tensors flattened and concatenated, in order.</summary>
    public static Tensor Flatten(IEnumerable<Tensor> tensors) => cat(tensors.Select(t => t.reshape(-1)).ToList());

    public void Dispose()
    {
        _optimizer.Dispose();
        _flat.Dispose();
    }
}
