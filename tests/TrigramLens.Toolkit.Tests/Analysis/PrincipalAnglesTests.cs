using TrigramLens.Analysis;
using static TorchSharp.torch;

namespace TrigramLens.Tests.Analysis;

public class PrincipalAnglesTests
{
    [Fact]
    public void Known_subspaces_give_known_angles()
    {
        // Writer spans e0, e1; reader spans e0 and (e1 + e2)/√2 and e3: angles 0 and 45°.
        var writer = zeros(2, 4);
        writer[0, 0] = tensor(2f);
        writer[1, 1] = tensor(-3f);
        var reader = zeros(4, 3);
        reader[0, 0] = tensor(1f);
        reader[1, 1] = tensor(1f);
        reader[2, 1] = tensor(1f);
        reader[3, 2] = tensor(5f);

        var cosines = PrincipalAngles.WriteReadCosines(writer, reader).data<float>().ToArray();
        Assert.Equal(2, cosines.Length);
        Assert.Equal(1.0, cosines[0], 5);
        Assert.Equal(Math.Cos(Math.PI / 4), cosines[1], 5);
    }

    [Fact]
    public void Cosines_do_not_depend_on_the_basis_chosen()
    {
        using var g = new Generator(3);
        var writer = randn([5, 12], generator: g);
        var reader = randn([12, 6], generator: g);
        var mix = randn([5, 5], generator: g);          // invertible with probability 1: same row space
        var a = PrincipalAngles.WriteReadCosines(writer, reader);
        var b = PrincipalAngles.WriteReadCosines(matmul(mix, writer), reader);
        Assert.True(a.allclose(b, atol: 1e-4));
        Assert.True(a.le(1.0001).all().item<bool>() && a.ge(0).all().item<bool>());
    }

    [Fact]
    public void Mismatched_residual_dimensions_are_rejected() =>
        Assert.Throws<ArgumentException>(() => PrincipalAngles.WriteReadCosines(zeros(3, 8), zeros(9, 2)));
}
