using TrigramLens.Analysis;
using TrigramLens.Testing;
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
        Assert.All(a.data<float>().ToArray(), c => Assert.InRange(c, 0, 1.0001f));
    }

    [Fact]
    public void Mismatched_residual_dimensions_are_rejected() =>
        Assert.Throws<ArgumentException>(() => PrincipalAngles.WriteReadCosines(zeros(3, 8), zeros(9, 2)));

    // A second, independent route: Gram–Schmidt bases and the eigenvalues of MMᵀ (M = Q₁ᵀQ₂) by Jacobi rotations, all in
    // plain double arithmetic. Cosines are the square roots of those eigenvalues.
    [Fact]
    public void Cosines_equal_a_plain_gram_schmidt_and_jacobi_computation()
    {
        using var g = new Generator(11);
        var writer = randn([4, 10], generator: g, dtype: ScalarType.Float64);
        var reader = randn([10, 6], generator: g, dtype: ScalarType.Float64);
        var cosines = PrincipalAngles.WriteReadCosines(writer, reader).data<double>().ToArray();

        double[][] q1 = GramSchmidt(Columns(writer.T)), q2 = GramSchmidt(Columns(reader));
        var m = q1.Select(a => q2.Select(b => Dot(a, b)).ToArray()).ToArray();                  // [4, 6]
        var mmT = m.Select(r => m.Select(s => Dot(r, s)).ToArray()).ToArray();                  // [4, 4]
        var expected = JacobiEigenvalues(mmT).Select(e => Math.Sqrt(Math.Max(e, 0))).OrderDescending().ToArray();
        Assert.Equal(expected.Length, cosines.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], cosines[i], 9);
    }

    static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();

    static double[][] Columns(Tensor m)
    {
        int rows = (int)m.shape[0], cols = (int)m.shape[1];
        var data = m.contiguous().data<double>().ToArray();
        return Enumerable.Range(0, cols).Select(c => Enumerable.Range(0, rows).Select(r => data[r * cols + c]).ToArray()).ToArray();
    }

    static double[][] GramSchmidt(double[][] vectors)
    {
        var basis = new List<double[]>();
        foreach (var v in vectors)
        {
            var u = (double[])v.Clone();
            foreach (var b in basis)
            {
                double d = Dot(u, b);
                for (int i = 0; i < u.Length; i++) u[i] -= d * b[i];
            }
            double norm = Math.Sqrt(Dot(u, u));
            basis.Add(u.Select(x => x / norm).ToArray());
        }
        return [.. basis];
    }

    static double[] JacobiEigenvalues(double[][] symmetric)
    {
        int n = symmetric.Length;
        var a = symmetric.Select(r => (double[])r.Clone()).ToArray();
        for (int sweep = 0; sweep < 100; sweep++)
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p][q]) < 1e-15) continue;
                    double theta = 0.5 * Math.Atan2(2 * a[p][q], a[q][q] - a[p][p]);
                    double c = Math.Cos(theta), s = Math.Sin(theta);
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                }
        return Enumerable.Range(0, n).Select(i => a[i][i]).ToArray();
    }
}
