namespace TrigramLens.Runtime;

/// <summary>
/// Process-wide changes to libtorch that a host may opt into with <see cref="TorchRuntime.Configure"/>. Loading the
/// toolkit changes none of them: a library user who never calls <c>Configure</c> gets stock libtorch behaviour.
/// </summary>
/// <param name="MklAvx512OnNonIntel">Let the MKL inside libtorch run its AVX-512 matrix kernels on non-Intel CPUs that
/// have AVX-512 (<see cref="MklCpuDispatch"/>): faster small matrix products, by rewriting one of libtorch's code
/// pointers for the rest of the process. Takes effect only before the process's first matrix product.</param>
public sealed record TorchRuntimeOptions(bool MklAvx512OnNonIntel = false);
