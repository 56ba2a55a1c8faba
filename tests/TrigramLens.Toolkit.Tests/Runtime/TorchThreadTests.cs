using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Runtime;

public class TorchThreadTests
{
    static float DenormalProduct() => (tensor(new[] { 1e-40f }) * tensor(new[] { 0.5f })).item<float>();

    // Only the "on" direction is asserted: libtorch 2.10's multiplication kernel keeps flushing process-wide once it
    // first ran on a flushing thread (docs/training.md), so "off" depends on what ran earlier in the test process.
    [Fact]
    public void Denormals_flush_to_zero_on_a_thread_set_up_for_it()
    {
        Assert.Equal(0f, TorchThread.Run(new TorchThreadSettings(1, FlushDenormals: true), DenormalProduct));
        Assert.Equal(5e-41f, 1e-40f * Half(1f));   // managed arithmetic on this thread is untouched
    }

    static float Half(float x) => x / 2;

    [Fact]
    public void Threads_set_up_this_way_start_their_own_threads_with_the_same_floating_point_mode()
    {
        float inner = TorchThread.Run(new TorchThreadSettings(1, FlushDenormals: true), () =>
        {
            float value = float.NaN;
            var child = new Thread(() => value = DenormalProduct());
            child.Start();
            child.Join();
            return value;
        });
        Assert.Equal(0f, inner);
    }

    [Fact]
    public void Exceptions_come_back_to_the_caller()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TorchThread.Run<int>(new TorchThreadSettings(), () => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", e.Message);
    }
}
