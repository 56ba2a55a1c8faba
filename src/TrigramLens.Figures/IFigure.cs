using ScottPlot;

namespace TrigramLens.Figures;

/// <summary>A figure described by data only (no tensors), so it can be rendered later, on any thread.</summary>
public interface IFigure
{
    Plot Build();
}
