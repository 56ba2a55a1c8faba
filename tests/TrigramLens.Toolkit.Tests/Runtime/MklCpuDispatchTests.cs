using System.Runtime.InteropServices;
using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Runtime;

public class MklCpuDispatchTests
{
    static bool LinuxX64 => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    static nint Export(string function)
    {
        Assert.True(NativeLibrary.TryLoad(MklCpuDispatch.Library, out var library));
        return NativeLibrary.GetExport(library, function);
    }

    static void MultiplySomething()
    {
        TorchRuntime.EnsureLoaded();
        using var product = ones(8, 32).mm(ones(32, 75));
        Assert.Equal(32f, product[0, 0].item<float>());
    }

    // Independent of our reader: once libtorch has called an MKL function through its PLT, the dynamic loader has
    // written that function's address into the slot, so a slot found in the wrong place cannot hold it.
    [Fact]
    public void The_slot_found_for_a_function_libtorch_has_called_holds_that_functions_address()
    {
        if (!LinuxX64) return;
        MultiplySomething();
        var (slot, reason) = ElfImportSlot.Find(MklCpuDispatch.Library, "mkl_blas_sgemm");
        Assert.True(slot.HasValue, reason);
        Assert.Equal(Export("mkl_blas_sgemm"), Marshal.ReadIntPtr(slot.Value));
    }

    [Fact]
    public void A_library_that_is_not_loaded_or_a_function_it_does_not_export_has_no_slot_and_says_why()
    {
        if (!LinuxX64) return;
        TorchRuntime.EnsureLoaded();
        Assert.Equal((null, "libnothere.so is not loaded"), ElfImportSlot.Find("libnothere.so", "f"));
        Assert.Equal((null, "libtorch_cpu.so does not export no_such_function"), ElfImportSlot.Find(MklCpuDispatch.Library, "no_such_function"));
    }

    // The redirect on a harmless target: the function the slot already holds.
    [Fact]
    public void A_redirect_writes_the_slot_and_tells_whether_the_function_had_been_called()
    {
        if (!LinuxX64) return;
        MultiplySomething();
        var sgemm = Export("mkl_blas_sgemm");
        Assert.Null(ElfImportSlot.Redirect(MklCpuDispatch.Library, "mkl_blas_sgemm", sgemm, out bool called));
        Assert.True(called);
        Assert.Equal(sgemm, Marshal.ReadIntPtr(ElfImportSlot.Find(MklCpuDispatch.Library, "mkl_blas_sgemm").slot!.Value));
        MultiplySomething();
    }

    [Fact]
    public void MKL_answers_through_the_redirect_exactly_when_the_status_says_so()
    {
        if (!LinuxX64) return;
        MultiplySomething();
        // Nothing in this test process opts in (TorchRuntime.Configure), so MKL keeps its own choice here; the CLI's
        // tests see the opted-in status.
        Assert.Equal(MklCpuDispatch.Status is null, TorchRuntime.MatrixKernels.Contains("stock libtorch", StringComparison.Ordinal));
        var (slot, reason) = ElfImportSlot.Find(MklCpuDispatch.Library, MklCpuDispatch.Function);
        Assert.True(slot.HasValue, reason);
        // After a product, MKL has asked: the slot holds either the original function or the redirect.
        bool original = Marshal.ReadIntPtr(slot.Value) == Export(MklCpuDispatch.Function);
        Assert.Equal(!MklCpuDispatch.Redirected, original);
        Assert.Equal(MklCpuDispatch.Redirected, TorchRuntime.MatrixKernels.StartsWith("MKL's AVX-512 kernels", StringComparison.Ordinal));
    }

    // Whichever kernels MKL runs, the products are the plain sums of products (shapes of the training step's GEMMs).
    [Theory]
    [InlineData(4704, 32, 75, false, false)]
    [InlineData(4704, 75, 32, false, true)]
    [InlineData(32, 4704, 75, true, false)]
    [InlineData(97, 20, 16, false, false)]
    public void Matrix_products_agree_with_a_plain_loop(int m, int k, int n, bool transposeA, bool transposeB)
    {
        TorchRuntime.EnsureLoaded();
        var generator = new Generator(7);
        using var a = transposeA ? randn(k, m, generator: generator).t() : randn(m, k, generator: generator);
        using var b = transposeB ? randn(n, k, generator: generator).t() : randn(k, n, generator: generator);
        using var product = a.mm(b);
        float[] x = a.contiguous().data<float>().ToArray(), y = b.contiguous().data<float>().ToArray(), p = product.data<float>().ToArray();
        for (int i = 0; i < m; i += 7)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int l = 0; l < k; l++) sum += (double)x[i * k + l] * y[l * n + j];
                Assert.True(Math.Abs(p[i * n + j] - sum) <= 1e-4 * Math.Sqrt(k), $"[{i}, {j}]: {p[i * n + j]} vs {sum}");
            }
    }
}
