using TrigramLens.Runtime;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_loads_and_computes_a_matrix_product()
    {
        TorchRuntime.EnsureLoaded();
        float[] a = [1, 2, 3, 4, 5, 6];        // 2×3
        float[] b = [7, 8, 9, 10, 11, 12];     // 3×2
        var product = matmul(tensor(a).view(2, 3), tensor(b).view(3, 2)).data<float>().ToArray();

        var expected = new float[4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 3; k++)
                    expected[i * 2 + j] += a[i * 3 + k] * b[k * 2 + j];
        Assert.Equal(expected, product);
    }

    [Fact]
    public void Loading_twice_is_harmless()
    {
        TorchRuntime.EnsureLoaded();
        TorchRuntime.EnsureLoaded();
        Assert.Equal(3.0f, ones(3).sum().item<float>());
    }
}
