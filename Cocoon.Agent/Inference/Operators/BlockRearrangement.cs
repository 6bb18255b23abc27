namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// DepthToSpace and SpaceToDepth: channels moved into blocks of pixels and back (pixel shuffle). Pure data
/// movement through <see cref="Tensor.Gather"/>, so every element type and any host-side GPU value work.
/// </summary>
[OperatorFamily]
internal static class BlockRearrangement
{
    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "DepthToSpace",
            Attributes = [AttributeDeclaration.Int("blocksize", 1, 1 << 12), AttributeDeclaration.String("mode", "DCR", "CRD")],
            Shape = c => [Rule(c, toSpace: true)],
            Run = c => [DepthToSpace(c)],
        };
        yield return new OperatorSchema
        {
            Name = "SpaceToDepth",
            Attributes = [AttributeDeclaration.Int("blocksize", 1, 1 << 12)],
            Shape = c => [Rule(c, toSpace: false)],
            Run = c => [SpaceToDepth(c)],
        };
    }

    private static long Block(OpContext c) =>
        c.Attribute("blocksize") is null ? throw new ModelException("blocksize is required.") : c.GetInt("blocksize", 1);

    private static long[]? Rule(ShapeContext c, bool toSpace)
    {
        var block = Block(c);
        if (c.In(0) is not { } x)
        {
            return null;
        }

        Dims.Rank(x, 4, "the input");
        var (n, channels, height, width) = (x[0], x[1], x[2], x[3]);
        if (toSpace)
        {
            if (channels >= 0 && channels % (block * block) != 0)
            {
                throw new ModelException($"{channels} channels do not split into blocks of {block}×{block}.");
            }

            return [n, channels >= 0 ? channels / (block * block) : Dims.Unknown, height >= 0 ? height * block : Dims.Unknown, width >= 0 ? width * block : Dims.Unknown];
        }

        if ((height >= 0 && height % block != 0) || (width >= 0 && width % block != 0))
        {
            throw new ModelException($"a {height}×{width} image does not split into blocks of {block}×{block}.");
        }

        return [n, channels >= 0 ? channels * block * block : Dims.Unknown, height >= 0 ? height / block : Dims.Unknown, width >= 0 ? width / block : Dims.Unknown];
    }

    private static Tensor DepthToSpace(OpContext c)
    {
        var x = c.Input(0);
        var b = (int)Block(c);
        var crd = c.GetString("mode", "DCR") == "CRD";
        var (channels, height, width) = (x.Shape[1] / (b * b), x.Shape[2], x.Shape[3]);
        int[] shape = [x.Shape[0], channels, height * b, width * b];
        return x.Gather(shape, Shapes.Map(shape, index =>
        {
            var (n, ch, row, column) = (index[0], index[1], index[2], index[3]);
            var (i, j) = (row % b, column % b);
            var source = crd ? (ch * b * b) + (i * b) + j : (((i * b) + j) * channels) + ch;
            return (((((n * x.Shape[1]) + source) * height) + (row / b)) * width) + (column / b);
        }));
    }

    private static Tensor SpaceToDepth(OpContext c)
    {
        var x = c.Input(0);
        var b = (int)Block(c);
        var (channels, height, width) = (x.Shape[1], x.Shape[2] / b, x.Shape[3] / b);
        int[] shape = [x.Shape[0], channels * b * b, height, width];
        return x.Gather(shape, Shapes.Map(shape, index =>
        {
            var (n, depth, row, column) = (index[0], index[1], index[2], index[3]);
            var (block, ch) = (depth / channels, depth % channels);
            var (i, j) = (block / b, block % b);
            return (((((n * channels) + ch) * x.Shape[2]) + (row * b) + i) * x.Shape[3]) + (column * b) + j;
        }));
    }
}
