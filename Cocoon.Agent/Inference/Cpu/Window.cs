namespace Cocoon.Agent.Inference.Cpu;

/// <summary>One spatial axis of a convolution or pool: kernel, stride, dilation, padding before and after, output size.</summary>
internal readonly record struct Window(int Kernel, int Stride, int Dilation, int PadBegin, int PadEnd, int Output)
{
    public int Span => ((Kernel - 1) * Dilation) + 1;
}
