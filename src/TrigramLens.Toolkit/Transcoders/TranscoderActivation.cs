namespace TrigramLens.Transcoders;

/// <summary>How a transcoder turns pre-activations <c>x W_enc + b_enc</c> into feature activations.</summary>
public enum TranscoderActivation
{
    /// <summary><c>ReLU(pre)</c>; trained with an L1 penalty.</summary>
    Relu,
    /// <summary>The <c>k</c> largest pre-activations of each position, then ReLU (SAELens's <c>TopK</c>); the rest zero.</summary>
    TopK,
    /// <summary><c>ReLU(pre) · [pre &gt; threshold]</c>, a learned threshold per feature (SAELens's JumpReLU).</summary>
    JumpRelu,
}
