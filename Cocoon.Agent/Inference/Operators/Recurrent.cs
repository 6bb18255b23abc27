using System.Numerics.Tensors;
using Cocoon.Agent.Inference.Cpu;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// The recurrent layers RNN, GRU and LSTM, forward, reverse or both ways, with per-sequence lengths,
/// initial states, LSTM's peepholes, clipping and any of ONNX's activation functions. The input's
/// projection for every step is one matrix product up front; each step then multiplies the previous
/// state by the recurrence weights into buffers made once per run. CPU kernels (a GPU run reads its
/// values back for them).
/// </summary>
[OperatorFamily]
internal static class Recurrent
{
    private enum Cell
    {
        Rnn,
        Gru,
        Lstm,
    }

    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return Layer("RNN", Cell.Rnn, 1, inputs: 6, outputs: 2);
        yield return Layer("GRU", Cell.Gru, 3, inputs: 6, outputs: 2, AttributeDeclaration.Int("linear_before_reset", 0, 1));
        yield return Layer("LSTM", Cell.Lstm, 4, inputs: 8, outputs: 3, AttributeDeclaration.Int("input_forget", 0, 1));
    }

    private static OperatorSchema Layer(string name, Cell cell, int gates, int inputs, int outputs, params AttributeDeclaration[] extra) => new()
    {
        Name = name,
        SinceOpset = 7,
        Attributes =
        [
            AttributeDeclaration.Floats("activation_alpha"), AttributeDeclaration.Floats("activation_beta"), AttributeDeclaration.Strings("activations"),
            AttributeDeclaration.Float("clip"), AttributeDeclaration.String("direction", "forward", "reverse", "bidirectional"),
            AttributeDeclaration.Int("hidden_size", 1, 1 << 16), AttributeDeclaration.Int("layout", 0, 1), .. extra,
        ],
        Inputs = new(3, inputs),
        Outputs = new(0, outputs),
        InputTypes = [ElementTypes.Float, ElementTypes.Float, ElementTypes.Float, ElementTypes.Float, ElementTypes.Numeric, ElementTypes.Float],
        Shape = c => Rule(c, gates, outputs),
        Flops = (c, _) => Flops(c, gates),
        Run = c => Run(c, cell, gates),
    };

    private static int Directions(OpContext c) => c.GetString("direction", "forward") == "bidirectional" ? 2 : 1;

    private static long[]?[] Rule(ShapeContext c, int gates, int outputs)
    {
        var directions = Directions(c);
        var hidden = c.Attribute("hidden_size") is null ? Dims.Unknown : c.GetInt("hidden_size", 1);
        var batchFirst = c.GetInt("layout", 0) == 1;
        var (x, w, r) = (c.In(0), c.In(1), c.In(2));
        Dims.Rank(x, 3, "X");
        Dims.Rank(w, 3, "W");
        Dims.Rank(r, 3, "R");
        if (w is not null)
        {
            Dims.Same(w[0], directions, "W's directions");
            hidden = Dims.Same(hidden, w[1] >= 0 ? w[1] / gates : Dims.Unknown, "hidden_size");
            if (w[1] >= 0 && w[1] % gates != 0)
            {
                throw new ModelException($"W's second dimension {w[1]} is not {gates} gates of hidden_size.");
            }

            if (x is not null)
            {
                Dims.Same(w[2], x[2], "the input size");
            }
        }

        if (r is not null)
        {
            Dims.Same(r[0], directions, "R's directions");
            Dims.Same(r[1], hidden >= 0 ? hidden * gates : Dims.Unknown, "R's second dimension");
            Dims.Same(r[2], hidden, "R's third dimension");
        }

        if (c.In(3) is { } b)
        {
            Dims.Rank(b, 2, "B");
            Dims.Same(b[0], directions, "B's directions");
            Dims.Same(b[1], hidden >= 0 ? 2 * gates * hidden : Dims.Unknown, "B's second dimension");
        }

        if (c.In(7) is { } p)
        {
            Dims.Rank(p, 2, "P");
            Dims.Same(p[0], directions, "P's directions");
            Dims.Same(p[1], hidden >= 0 ? 3 * hidden : Dims.Unknown, "P's second dimension");
        }

        var (sequence, batch) = x is null ? (Dims.Unknown, Dims.Unknown) : batchFirst ? (x[1], x[0]) : (x[0], x[1]);
        long[] y = batchFirst ? [batch, sequence, directions, hidden] : [sequence, directions, batch, hidden];
        long[] state = batchFirst ? [batch, directions, hidden] : [directions, batch, hidden];
        foreach (var i in new[] { 5, 6 })
        {
            if (c.In(i) is { } initial)
            {
                Dims.Rank(initial, 3, "an initial state");
                for (var d = 0; d < 3; d++)
                {
                    Dims.Same(initial[d], state[d], "an initial state's dimension");
                }
            }
        }

        return [.. new[] { y, state, state }.Take(c.OutputCount)];
    }

    private static long Flops(OpContext c, int gates)
    {
        var (x, r) = (c.Input(0), c.Input(2));
        long steps = (long)x.Shape[0] * x.Shape[1];
        var hidden = r.Shape[2];
        return 2L * Directions(c) * steps * gates * hidden * (x.Shape[2] + hidden);
    }

    /// <summary>An activation function of ONNX's recurrent layers, with its alpha and beta.</summary>
    private readonly record struct Function(string Name, float Alpha, float Beta)
    {
        public void Apply(Span<float> v)
        {
            switch (Name)
            {
                case "Sigmoid":
                    TensorPrimitives.Sigmoid(v, v);
                    break;
                case "Tanh":
                    TensorPrimitives.Tanh(v, v);
                    break;
                case "Relu":
                    TensorPrimitives.Max(v, 0f, v);
                    break;
                default:
                    for (var i = 0; i < v.Length; i++)
                    {
                        v[i] = Scalar(v[i]);
                    }

                    break;
            }
        }

        private float Scalar(float x) => Name switch
        {
            "Affine" => (Alpha * x) + Beta,
            "LeakyRelu" => x >= 0 ? x : Alpha * x,
            "ThresholdedRelu" => x > Alpha ? x : 0f,
            "ScaledTanh" => Alpha * MathF.Tanh(Beta * x),
            "HardSigmoid" => Math.Clamp((Alpha * x) + Beta, 0f, 1f),
            "Elu" => x >= 0 ? x : Alpha * (MathF.Exp(x) - 1f),
            "Softsign" => x / (1f + MathF.Abs(x)),
            _ => x > 0 ? x + MathF.Log(1f + MathF.Exp(-x)) : MathF.Log(1f + MathF.Exp(x)), // Softplus
        };
    }

    private static readonly Dictionary<string, (float Alpha, float Beta, int Takes)> Functions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Sigmoid"] = (0, 0, 0),
        ["Tanh"] = (0, 0, 0),
        ["Relu"] = (0, 0, 0),
        ["Softsign"] = (0, 0, 0),
        ["Softplus"] = (0, 0, 0),
        ["Affine"] = (1f, 0f, 2),
        ["LeakyRelu"] = (0.01f, 0, 1),
        ["ThresholdedRelu"] = (1f, 0, 1),
        ["ScaledTanh"] = (1f, 1f, 2),
        ["HardSigmoid"] = (0.2f, 0.5f, 2),
        ["Elu"] = (1f, 0, 1),
    };

    /// <summary>The activation functions per direction, from the attribute or the layer's defaults, each taking its alpha and beta in turn.</summary>
    private static Function[][] Activations(OpContext c, Cell cell, int directions)
    {
        string[] defaults = cell switch
        {
            Cell.Rnn => ["Tanh"],
            Cell.Gru => ["Sigmoid", "Tanh"],
            _ => ["Sigmoid", "Tanh", "Tanh"],
        };
        var named = c.Attribute("activations") is { } a ? a.Strings.Select(s => s.ToStringUtf8()).ToArray() : null;
        if (named is not null && named.Length != defaults.Length * directions)
        {
            throw new ModelException($"activations names {named.Length} function(s); a {(directions == 2 ? "bidirectional " : "")}{cell.ToString().ToUpperInvariant()} takes {defaults.Length * directions}.");
        }

        var (alphas, betas) = (c.GetFloats("activation_alpha") ?? [], c.GetFloats("activation_beta") ?? []);
        var (nextAlpha, nextBeta) = (0, 0);
        var result = new Function[directions][];
        for (var d = 0; d < directions; d++)
        {
            result[d] = new Function[defaults.Length];
            for (var f = 0; f < defaults.Length; f++)
            {
                var name = named?[(d * defaults.Length) + f] ?? defaults[f];
                if (!Functions.TryGetValue(name, out var known))
                {
                    throw new ModelException($"activation '{name}' is not one of {string.Join(", ", Functions.Keys)}.");
                }

                var alpha = known.Takes >= 1 && nextAlpha < alphas.Length ? alphas[nextAlpha++] : known.Alpha;
                var beta = known.Takes >= 2 && nextBeta < betas.Length ? betas[nextBeta++] : known.Beta;
                result[d][f] = new Function(Functions.Keys.First(k => k.Equals(name, StringComparison.OrdinalIgnoreCase)), alpha, beta);
            }
        }

        return result;
    }

    private static Tensor[] Run(OpContext c, Cell cell, int gates)
    {
        var (xIn, w, r) = (c.Input(0), c.Input(1), c.Input(2));
        var (b, lengths, initialH) = (c.Optional(3), c.Optional(4), c.Optional(5));
        var (initialC, peepholes) = cell == Cell.Lstm ? (c.Optional(6), c.Optional(7)) : (null, null);
        var batchFirst = c.GetInt("layout", 0) == 1;
        var directions = Directions(c);
        var reverseOnly = c.GetString("direction", "forward") == "reverse";
        var hidden = r.Shape[2];
        var x = batchFirst ? Shapes.Transpose(null, xIn, [1, 0, 2]) : xIn;
        var (sequence, batch, inputSize) = (x.Shape[0], x.Shape[1], x.Shape[2]);
        if (w.Shape[2] != inputSize)
        {
            throw new ModelException($"W takes inputs of {w.Shape[2]}; X gives {inputSize}.");
        }

        var stepsOf = new int[batch];
        var given = lengths?.AsLongs();
        for (var n = 0; n < batch; n++)
        {
            var length = given is null ? sequence : given.Length == batch ? given[n] : throw new ModelException($"sequence_lens has {given.Length} entries for a batch of {batch}.");
            stepsOf[n] = length >= 0 && length <= sequence ? (int)length : throw new ModelException($"sequence length {length} is outside 0..{sequence}.");
        }

        var functions = Activations(c, cell, directions);
        var clip = c.Attribute("clip") is null ? float.PositiveInfinity : c.GetFloat("clip", 0f);
        if (clip <= 0)
        {
            throw new ModelException($"clip {clip} must be positive.");
        }

        var (linearBeforeReset, inputForget) = (c.GetInt("linear_before_reset", 0) == 1, c.GetInt("input_forget", 0) == 1);
        var width = gates * hidden;

        // Every buffer held to the largest tensor, an empty sequence's included (its states are still made).
        Tensor.CheckedCount([directions, batch, hidden]);
        Tensor.CheckedCount([batch, width]);
        var y = new float[Tensor.CheckedCount([sequence, directions, batch, hidden])];
        var lastH = new float[directions * batch * hidden];
        var lastC = new float[directions * batch * hidden];
        var xData = x.Values.Span.ToArray();

        // Both weights transposed for the products, once per model when they are its weights.
        var (wData, rData) = (w.Data, r.Data);
        var wAll = c.PackedWeight(w, "recurrent transposed", w.Length, () => Transposed(wData, directions, width, inputSize)) ?? Transposed(wData, directions, width, inputSize);
        var rAll = c.PackedWeight(r, "recurrent transposed", r.Length, () => Transposed(rData, directions, width, hidden)) ?? Transposed(rData, directions, width, hidden);
        for (var d = 0; d < directions; d++)
        {
            var reverse = reverseOnly || d == 1;

            // The input's projection for every step and both biases (the recurrence bias of GRU's
            // candidate stays apart when it is applied before the reset gate's product).
            var rT = rAll.AsSpan(d * width * hidden, width * hidden).ToArray();
            var projected = new float[Tensor.CheckedCount([sequence, batch, width])];
            GemmKernel.Multiply(xData, 0, wAll, d * width * inputSize, projected, 0, sequence * batch, inputSize, width);
            var bias = new float[width];
            var candidateBias = new float[hidden];
            if (b is not null)
            {
                var bData = b.Data;
                for (var j = 0; j < width; j++)
                {
                    var (wb, rb) = (bData[(d * 2 * width) + j], bData[(d * 2 * width) + width + j]);
                    var recurrenceOfCandidate = cell == Cell.Gru && linearBeforeReset && j >= 2 * hidden;
                    bias[j] = wb + (recurrenceOfCandidate ? 0 : rb);
                    if (recurrenceOfCandidate)
                    {
                        candidateBias[j - (2 * hidden)] = rb;
                    }
                }
            }

            var h = new float[batch * hidden];
            var cState = new float[batch * hidden];
            if (initialH is not null)
            {
                Array.Copy(InitialState(initialH, batchFirst, d, batch, hidden), h, h.Length);
            }

            if (initialC is not null)
            {
                Array.Copy(InitialState(initialC, batchFirst, d, batch, hidden), cState, cState.Length);
            }

            var peep = peepholes?.Data.AsSpan(d * 3 * hidden, 3 * hidden).ToArray();
            var recurrence = new float[batch * width];
            var candidate = new float[hidden];
            var hiddenRecurrence = new float[hidden];
            var resetHidden = new float[hidden];
            var f = functions[d];
            for (var step = 0; step < sequence; step++)
            {
                // Every sequence still running at this step; the rest keep their state (reverse ones start later).
                GemmKernel.Multiply(h, 0, rT, 0, recurrence, 0, batch, hidden, width, parallel: false);

                for (var n = 0; n < batch; n++)
                {
                    var steps = stepsOf[n];
                    if (step >= steps)
                    {
                        continue;
                    }

                    var t = reverse ? steps - 1 - step : step;
                    var gate = recurrence.AsSpan(n * width, width);
                    if (cell == Cell.Gru)
                    {
                        // H·Rhᵀ, which the candidate gate takes apart from the rest.
                        gate.Slice(2 * hidden, hidden).CopyTo(hiddenRecurrence);
                    }

                    TensorPrimitives.Add(gate, projected.AsSpan(((t * batch) + n) * width, width), gate);
                    var hRow = h.AsSpan(n * hidden, hidden);
                    var cRow = cState.AsSpan(n * hidden, hidden);
                    switch (cell)
                    {
                        case Cell.Rnn:
                            TensorPrimitives.Add(gate, bias, gate);
                            Clip(gate, clip);
                            f[0].Apply(gate);
                            gate.CopyTo(hRow);
                            break;
                        case Cell.Gru:
                            GruStep(gate, bias, candidateBias, hRow, hiddenRecurrence, rT, hidden, width, linearBeforeReset, clip, f, candidate, resetHidden);
                            break;
                        default:
                            LstmStep(gate, bias, hRow, cRow, peep, hidden, inputForget, clip, f);
                            break;
                    }

                    hRow.CopyTo(y.AsSpan((((t * directions) + d) * batch * hidden) + (n * hidden), hidden));
                }
            }

            Array.Copy(h, 0, lastH, d * batch * hidden, h.Length);
            Array.Copy(cState, 0, lastC, d * batch * hidden, cState.Length);
        }

        var yTensor = new Tensor([sequence, directions, batch, hidden], y);
        var hTensor = new Tensor([directions, batch, hidden], lastH);
        var cTensor = new Tensor([directions, batch, hidden], lastC);
        if (batchFirst)
        {
            (yTensor, hTensor, cTensor) = (Shapes.Transpose(null, yTensor, [2, 0, 1, 3]), Shapes.Transpose(null, hTensor, [1, 0, 2]), Shapes.Transpose(null, cTensor, [1, 0, 2]));
        }

        return [.. new[] { yTensor, hTensor, cTensor }.Take(c.OutputCount)];
    }

    private static float[] InitialState(Tensor state, bool batchFirst, int direction, int batch, int hidden)
    {
        var data = state.Data;
        var result = new float[batch * hidden];
        for (var n = 0; n < batch; n++)
        {
            var from = batchFirst ? ((n * state.Shape[1]) + direction) * hidden : ((direction * batch) + n) * hidden;
            Array.Copy(data, from, result, n * hidden, hidden);
        }

        return result;
    }

    /// <summary>Each direction's [rows × columns] block of <paramref name="source"/> transposed, one after another.</summary>
    private static float[] Transposed(float[] source, int directions, int rows, int columns)
    {
        var result = new float[directions * rows * columns];
        for (var d = 0; d < directions; d++)
        {
            var at = d * rows * columns;
            for (var i = 0; i < rows; i++)
            {
                for (var j = 0; j < columns; j++)
                {
                    result[at + (j * rows) + i] = source[at + (i * columns) + j];
                }
            }
        }

        return result;
    }

    private static void Clip(Span<float> v, float clip)
    {
        if (float.IsFinite(clip))
        {
            TensorPrimitives.Clamp(v, -clip, clip, v);
        }
    }

    /// <summary>One GRU step for one sequence: gates z, r, h; <paramref name="gate"/> holds X·Wᵀ + H·Rᵀ for all three.</summary>
    /// <param name="hiddenRecurrence">H·Rhᵀ, the part of the candidate gate that the reset gate acts on.</param>
    private static void GruStep(Span<float> gate, float[] bias, float[] candidateBias, Span<float> h, float[] hiddenRecurrence, float[] rT, int hidden, int width, bool linearBeforeReset, float clip, Function[] f, float[] candidate, float[] resetHidden)
    {
        TensorPrimitives.Add(gate, bias, gate);
        var zr = gate[..(2 * hidden)];
        Clip(zr, clip);
        f[0].Apply(zr);
        var z = gate[..hidden];
        var r = gate.Slice(hidden, hidden);
        var hGate = gate.Slice(2 * hidden, hidden);
        if (linearBeforeReset)
        {
            // h = g(X·Whᵀ + Wbh + r ⊙ (H·Rhᵀ + Rbh)), where hGate holds X·Whᵀ + Wbh + H·Rhᵀ.
            for (var j = 0; j < hidden; j++)
            {
                hGate[j] += ((r[j] - 1f) * hiddenRecurrence[j]) + (r[j] * candidateBias[j]);
            }
        }
        else
        {
            // h = g(X·Whᵀ + (r ⊙ H)·Rhᵀ + Wbh + Rbh): H·Rhᵀ gives way to (r ⊙ H)·Rhᵀ.
            TensorPrimitives.Multiply(r, h, resetHidden);
            for (var j = 0; j < hidden; j++)
            {
                hGate[j] += Dot(resetHidden, rT, width, (2 * hidden) + j) - hiddenRecurrence[j];
            }
        }

        hGate.CopyTo(candidate);
        Clip(candidate, clip);
        f[1].Apply(candidate);
        for (var j = 0; j < hidden; j++)
        {
            h[j] = ((1f - z[j]) * candidate[j]) + (z[j] * h[j]);
        }
    }

    /// <summary>Row · column <paramref name="column"/> of the transposed recurrence weights (hidden × width).</summary>
    private static float Dot(ReadOnlySpan<float> row, float[] rT, int width, int column)
    {
        var sum = 0f;
        for (var k = 0; k < row.Length; k++)
        {
            sum += row[k] * rT[(k * width) + column];
        }

        return sum;
    }

    /// <summary>One LSTM step for one sequence: gates i, o, f, c; peepholes i, o, f.</summary>
    private static void LstmStep(Span<float> gate, float[] bias, Span<float> h, Span<float> cState, float[]? peep, int hidden, bool inputForget, float clip, Function[] f)
    {
        TensorPrimitives.Add(gate, bias, gate);
        var i = gate[..hidden];
        var o = gate.Slice(hidden, hidden);
        var fo = gate.Slice(2 * hidden, hidden);
        var candidate = gate.Slice(3 * hidden, hidden);
        if (peep is not null)
        {
            TensorPrimitives.MultiplyAdd(cState, peep.AsSpan(0, hidden), i, i);
            TensorPrimitives.MultiplyAdd(cState, peep.AsSpan(2 * hidden, hidden), fo, fo);
        }

        Clip(i, clip);
        f[0].Apply(i);
        if (inputForget)
        {
            // Coupled gates: the forget gate is 1 − the input gate.
            TensorPrimitives.Subtract(1f, i, fo);
        }
        else
        {
            Clip(fo, clip);
            f[0].Apply(fo);
        }

        Clip(candidate, clip);
        f[1].Apply(candidate);
        for (var j = 0; j < hidden; j++)
        {
            cState[j] = (fo[j] * cState[j]) + (i[j] * candidate[j]);
        }

        if (peep is not null)
        {
            TensorPrimitives.MultiplyAdd(cState, peep.AsSpan(hidden, hidden), o, o);
        }

        Clip(o, clip);
        f[0].Apply(o);
        cState.CopyTo(h);
        f[2].Apply(h);
        TensorPrimitives.Multiply(o, h, h);
    }
}
