using TrigramLens.Runtime;
using TrigramLens.Testing;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Runtime;

[Collection(nameof(LibtorchThreadCount))]   // reads libtorch's process-wide thread count
public class TorchThreadTests
{
    static T OnFreshThread<T>(Func<T> read)
    {
        T value = default!;
        var thread = new Thread(() => value = read());
        thread.Start();
        thread.Join();
        return value;
    }
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

    [Fact]
    public void The_process_wide_thread_count_and_denormal_mode_are_put_back_when_a_run_ends()
    {
        int caller = get_num_threads(), processWide = OnFreshThread(get_num_threads);
        Assert.Equal(1, TorchThread.Run(new TorchThreadSettings(Threads: 1, FlushDenormals: true), get_num_threads));
        Assert.Equal(caller, get_num_threads());
        Assert.Equal(processWide, OnFreshThread(get_num_threads));
        Assert.Equal(5e-41f, DenormalProduct());
        Assert.Equal(5e-41f, OnFreshThread(DenormalProduct));
    }

    [Fact]
    public void Runs_at_once_with_the_same_settings_compute_what_each_computes_alone()
    {
        var settings = new TorchThreadSettings(Threads: 1, FlushDenormals: true);
        static float[] Work()
        {
            using var g = new Generator(7);
            var x = randn(64, 64, generator: g);
            for (int i = 0; i < 50; i++) x = Held.Div(x.mm(x.T), 64).tanh();
            return x.sum(1).data<float>().ToArray();
        }
        float[] alone = TorchThread.Run(settings, Work);
        using var start = new Barrier(2);
        var runs = Enumerable.Range(0, 2).Select(_ => Task.Run(() => { start.SignalAndWait(); return TorchThread.Run(settings, Work); })).ToArray();
        Task.WaitAll(runs);
        Assert.All(runs, r => Assert.Equal(alone, r.Result));
    }

    [Fact]
    public void An_analysis_running_while_a_run_goes_computes_what_it_computes_alone()
    {
        using var model = new TrigramLens.Model.HookedTransformer(TrigramLens.Testing.TinyModels.Arena());
        using var g = new Generator(3);
        var tokens = randint(0, 75, [64, 50], generator: g);
        float[] Analyse()
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            return model.call(tokens).softmax(-1).sum([0, 1]).data<float>().ToArray();
        }
        float[] alone = Analyse(), aloneFresh = OnFreshThread(Analyse);

        using var running = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var run = Task.Run(() => TorchThread.Run(new TorchThreadSettings(Threads: 1, FlushDenormals: true), () =>
        {
            running.Set();
            release.Wait();
            return 0;
        }));
        running.Wait();
        try
        {
            Assert.Equal(alone, Analyse());
            Assert.Equal(aloneFresh, OnFreshThread(Analyse));   // a thread that first uses libtorch during the run
        }
        finally
        {
            release.Set();
            run.Wait();
        }
    }

    [Fact]
    public void A_run_asking_for_other_settings_while_one_is_going_is_refused_with_a_clear_error()
    {
        using var running = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => TorchThread.Run(new TorchThreadSettings(Threads: 1, FlushDenormals: true), () =>
        {
            running.Set();
            release.Wait();
            return 0;
        }));
        running.Wait();
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => TorchThread.Run(new TorchThreadSettings(Threads: 2, FlushDenormals: false), () => 0));
            Assert.Contains("already running work in this process with 1 libtorch thread(s), denormals flushed", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally
        {
            release.Set();
            first.Wait();
        }
        Assert.Equal(0, TorchThread.Run(new TorchThreadSettings(Threads: 2, FlushDenormals: false), () => 0));   // free again
    }
}
