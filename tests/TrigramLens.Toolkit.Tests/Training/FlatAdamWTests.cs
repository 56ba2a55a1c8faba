using TorchSharp;
using TorchSharp.Modules;
using TrigramLens.Training;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Training;

public sealed class FlatAdamWTests
{
    static Parameter[] Parameters(Generator g) =>
        [new(randn([5, 3], generator: g)), new(randn([7], generator: g)), new(randn([2, 1, 4], generator: g))];

    /// <summary>Separate parameters with the same values.</summary>
    static Parameter[] Copies(Parameter[] ps) => ps.Select(p => new Parameter(p.detach().clone())).ToArray();

    [Fact]
    public void Steps_equal_torchsharp_adamw_over_the_separate_tensors()
    {
        using var g = new Generator(1);
        var flat = Parameters(g);
        var separate = Copies(flat);
        using var optimizer = new FlatAdamW(flat, 0.9, 0.99, 1e-8, 0.01);
        using var reference = optim.AdamW(separate, lr: 0, beta1: 0.9, beta2: 0.99, eps: 1e-8, weight_decay: 0.01);

        foreach (double lr in new[] { 1e-2, 3e-2, 5e-3, 1e-3 })
        {
            for (int i = 0; i < flat.Length; i++)
            {
                var grad = randn(flat[i].shape, generator: g);
                flat[i].grad = grad.clone();
                separate[i].grad = grad;
            }
            optimizer.Step(lr);
            foreach (var group in reference.ParamGroups) group.LearningRate = lr;
            reference.step();
        }

        for (int i = 0; i < flat.Length; i++)
        {
            Assert.True(flat[i].Equals(separate[i]), $"parameter {i}");
            var state = (AdamW.State)reference.state_dict().State[i];
            using var moments = optimizer.Moments(i);
            Assert.Equal(state.step, moments.Step);
            Assert.True(moments.ExpAvg.Equals(state.exp_avg), $"exp_avg {i}");
            Assert.True(moments.ExpAvgSq.Equals(state.exp_avg_sq), $"exp_avg_sq {i}");
        }
    }

    [Fact]
    public void Moments_set_on_a_fresh_optimizer_continue_the_same_trajectory()
    {
        using var g = new Generator(2);
        var a = Parameters(g);
        var b = Copies(a);
        using var first = new FlatAdamW(a, 0.9, 0.999, 1e-8, 1e-3);
        var grads = Enumerable.Range(0, 3).Select(_ => a.Select(p => randn(p.shape, generator: g)).ToArray()).ToArray();

        void Step(FlatAdamW optimizer, Parameter[] ps, Tensor[] gs)
        {
            for (int i = 0; i < ps.Length; i++) ps[i].grad = gs[i].clone();
            optimizer.Step(1e-2);
        }

        Step(first, a, grads[0]);
        using (no_grad()) for (int i = 0; i < b.Length; i++) b[i].copy_(a[i]);
        using var second = new FlatAdamW(b, 0.9, 0.999, 1e-8, 1e-3);
        second.SetMoments(Enumerable.Range(0, a.Length).Select(first.Moments).ToArray());
        foreach (var gs in grads.Skip(1))
        {
            Step(first, a, gs);
            Step(second, b, gs);
        }
        for (int i = 0; i < a.Length; i++) Assert.True(a[i].Equals(b[i]), $"parameter {i}");
    }

    [Fact]
    public void A_parameter_without_a_gradient_is_named()
    {
        using var g = new Generator(3);
        var ps = Parameters(g);
        using var optimizer = new FlatAdamW(ps, 0.9, 0.999, 1e-8, 0);
        ps[0].grad = zeros_like(ps[0]);
        var e = Assert.Throws<InvalidOperationException>(() => optimizer.Step(1e-3));
        Assert.Contains("parameter 1", e.Message);
    }

    [Fact]
    public void In_place_writes_to_the_parameters_and_a_flat_gradient_step_like_separate_adamw()
    {
        using var g = new Generator(4);
        var a = Parameters(g);
        var b = Copies(a);
        using var fromGrads = new FlatAdamW(a, 0.9, 0.999, 1e-8, 1e-3);
        using var fromFlat = new FlatAdamW(b, 0.9, 0.999, 1e-8, 1e-3);
        // Written after construction (as a loaded checkpoint is): the step must start from these values.
        using (no_grad())
        {
            using var half = 0.5.ToScalar();
            a[1].fill_(half);
            b[1].fill_(half);
        }
        var separate = Copies(a);
        using var reference = optim.AdamW(separate, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-3);

        var grads = a.Select(p => randn(p.shape, generator: g)).ToArray();
        for (int i = 0; i < a.Length; i++)
        {
            a[i].grad = grads[i].clone();
            separate[i].grad = grads[i].clone();
        }
        fromGrads.Step(1e-2);
        fromFlat.Step(1e-2, FlatAdamW.Flatten(grads));
        reference.step();
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(a[i].Equals(separate[i]), $"parameter {i} (gradients on the parameters)");
            Assert.True(b[i].Equals(separate[i]), $"parameter {i} (flat gradient)");
        }
        Assert.Throws<ArgumentException>(() => fromFlat.Step(1e-2, zeros(3)));
        Assert.Throws<ArgumentException>(() => fromFlat.Step(1e-2, FlatAdamW.Flatten(grads).to(ScalarType.Float64)));
    }

    [Fact]
    public void A_second_optimizer_takes_the_parameters_over_and_they_outlive_both()
    {
        using var g = new Generator(5);
        var ps = Parameters(g);
        var first = new FlatAdamW(ps, 0.9, 0.999, 1e-8, 0);
        var second = new FlatAdamW(ps, 0.9, 0.999, 1e-8, 0);
        foreach (var p in ps) p.grad = randn(p.shape, generator: g);
        var e = Assert.Throws<InvalidOperationException>(() => first.Step(1e-2));
        Assert.Contains("another optimizer", e.Message);

        var before = ps.Select(p => p.detach().clone()).ToArray();
        second.Step(1e-2);
        Assert.All(Enumerable.Range(0, ps.Length), i => Assert.False(ps[i].Equals(before[i]), $"parameter {i} did not move"));
        var after = ps.Select(p => p.detach().clone()).ToArray();
        first.Dispose();
        second.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.All(Enumerable.Range(0, ps.Length), i => Assert.True(ps[i].Equals(after[i]), $"parameter {i} lost its values"));
    }
}
