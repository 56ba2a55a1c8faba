using TrigramLens.Testing;

namespace TrigramLens.Benchmarks.Tests;

/// <summary>See the toolkit's ScalarLifetimeTests: no call hands libtorch a Scalar the garbage collector may free.</summary>
public sealed class ScalarLifetimeTests
{
    [Fact]
    public void No_call_in_the_benchmarks_hands_libtorch_a_temporary_scalar() =>
        ScalarLifetimeScan.AssertNone(typeof(ReferenceTrainingStep).Assembly);

    // The tests too: they run in parallel and allocate a lot, so a temporary scalar could crash the test host (see Held).
    [Fact]
    public void No_call_in_these_tests_hands_libtorch_a_temporary_scalar() =>
        ScalarLifetimeScan.AssertNone(typeof(ScalarLifetimeTests).Assembly);
}
