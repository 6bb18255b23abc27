using System.Runtime.InteropServices;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;
using Cocoon.Agent.Inference.Operators;
using Onnx;

namespace Cocoon.Agent.Inference;

/// <summary>
/// An ONNX model loaded for inference: parsed (OnnxSharp's generated protobuf types), checked once
/// (every operator supported, every value defined, no cycles, initializers readable) and evaluated
/// node by node on the CPU. Operators follow the ONNX specification for opsets 9 to 21 (and 6 to 8, brought
/// to opset 9's form first by <see cref="LegacyOpsets"/>), including the
/// attributes that became inputs across those opsets. A run goes either to the CPU kernels (SIMD) or,
/// given a <see cref="GpuDevice"/>, to ILGPU kernels for the float operators, with values kept in
/// device memory between nodes; shape and index operators stay on the host either way.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>Lowest and highest default-domain opset this engine reads.</summary>
    public const long MinOpset = 6;

    public const long MaxOpset = 21;

    /// <summary>The execution plan: the nodes in order, each resolved to its operator and value slots.</summary>
    private readonly Step[] _steps;

    /// <summary>A run's value slots as they start: the initializers in place, everything else empty.</summary>
    private readonly Tensor?[] _template;
    private readonly int[] _inputSlots;
    private readonly string[] _slotNames;
    private readonly int[] _outputSlots;
    private readonly HashSet<Tensor> _weights;
    private readonly Dictionary<string, Tensor> _initializers;
    /// <summary>The graph inputs' declarations (names and shapes only: the graph itself, which may hold weights, is not kept).</summary>
    private readonly GraphProto _inputs;
    private readonly List<NodeProto> _order;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int[], long> _peaks = new(Buffers.ShapesComparer.Instance);
    private readonly PackedWeights _packed;
    private Buffers? _buffers;

    /// <summary>The graph inputs whose declared shapes folding relied on, with those shapes: what is fed must match.</summary>
    private readonly Dictionary<string, int?[]?> _declared;
    private readonly long _opset;

    private OnnxModel(GraphProto graph, List<NodeProto> order, Dictionary<string, Tensor> initializers, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, long opset, Dictionary<string, int?[]?> declared, ShapeInference.Result shapes)
    {
        _inputs = new GraphProto { Input = { graph.Input.Select(i => i.Clone()) } };
        _order = order;
        _initializers = initializers;
        _declared = declared;
        InferredShapes = shapes;

        // Every value gets a slot number once, here, so that a run indexes an array instead of hashing
        // names, and each node's operator and attributes are looked up once instead of on every run.
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        int Slot(string name) => name.Length == 0 ? -1 : slots.TryGetValue(name, out var at) ? at : slots[name] = slots.Count;
        foreach (var name in initializers.Keys.Concat(inputs).Concat(order.SelectMany(n => n.Input.Concat(n.Output))).Concat(outputs))
        {
            Slot(name);
        }

        var deadAfter = DeadAfter(order, outputs, initializers.Keys);
        _steps = [.. order.Select((node, i) => MakeStep(node, opset) with
        {
            Inputs = [.. node.Input.Select(Slot)],
            Outputs = [.. node.Output.Select(Slot)],
            Dead = [.. deadAfter[i].Select(Slot)],
        })];
        _template = new Tensor?[slots.Count];
        _slotNames = new string[slots.Count];
        foreach (var (name, at) in slots)
        {
            _slotNames[at] = name;
        }

        foreach (var (name, value) in initializers)
        {
            _template[slots[name]] = value;
        }

        _inputSlots = [.. inputs.Select(Slot)];
        _outputSlots = [.. outputs.Select(Slot)];
        _weights = new HashSet<Tensor>(initializers.Values, ReferenceEqualityComparer.Instance);
        _packed = new PackedWeights(_weights);
        Inputs = inputs;
        Outputs = outputs;
        _opset = opset;
    }

    /// <summary>Graph inputs that are not initializers: what the caller feeds, by name.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Graph outputs, by name.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>The shape of every value as inferred at load, before any run (<see cref="ShapeInference"/>).</summary>
    internal ShapeInference.Result InferredShapes { get; }

    /// <summary>The inferred shape of a graph value at load: [batch, 256], ? where only a run can tell.</summary>
    public string InferredShape(string value) => InferredShapes.Describe(value);

    /// <summary>Whether CPU runs place their activations by a memory plan (the default), or take them from the pool only (to measure what the plan changes).</summary>
    internal bool PlanMemory { get; set; } = true;

    /// <summary>How the last CPU run used memory for its activations: planned into the model's arena or not, and the plan's sizes.</summary>
    public MemoryReport LastRunMemory { get; private set; } = MemoryReport.Unplanned;

    /// <summary>
    /// Overwrites the activations the model keeps between runs (its arena and its pool of dead values'
    /// arrays) with <paramref name="value"/>: zeros once a work unit's rows are done, so that the
    /// developer's data does not outlive the unit in the agent's memory; NaN in tests, so that a kernel
    /// that leaves an element unwritten shows.
    /// </summary>
    public void FillActivations(float value)
    {
        // Taken, not read in place: a concurrent run may be about to take the same buffers, and must
        // not find them being filled (it gets fresh ones instead).
        if (Interlocked.Exchange(ref _buffers, null) is { } buffers)
        {
            buffers.Fill(value);
            if (Interlocked.CompareExchange(ref _buffers, buffers, null) is not null)
            {
                buffers.Fill(0f);
            }
        }
    }

    /// <summary>
    /// Zeroes everything the model holds of the developer's (its weights, their packed copies, its kept
    /// activations) when it is unloaded, rather than leaving them in freed memory; a run after this is refused.
    /// </summary>
    public void Wipe()
    {
        _wiped = true;
        foreach (var weight in _initializers.Values)
        {
            if (weight.Device is null)
            {
                weight.Data.AsSpan().Clear();
            }

            weight.Longs.AsSpan().Clear();
            weight.Bools.AsSpan().Clear();
        }

        _packed.Wipe();
        _buffers?.Fill(0f);
        lock (_devices)
        {
            foreach (var device in _devices)
            {
                device.ForgetWeights(_initializers.Values);
            }

            _devices.Clear();
        }

        foreach (var step in _steps)
        {
            step.Guard.Forget();
        }
    }

    private volatile bool _wiped;

    /// <summary>The GPUs this model ran on, which hold device copies of its weights until it is wiped.</summary>
    private readonly HashSet<GpuDevice> _devices = [];

    /// <summary>The model's weights (its initializers after folding), for tests that check they are wiped.</summary>
    internal IEnumerable<Tensor> Weights => _initializers.Values;

    /// <summary>The arrays the model keeps activations in between runs: its arena and its pool's free arrays.</summary>
    internal IEnumerable<float[]> KeptActivations => _buffers?.Kept ?? [];

    /// <summary>
    /// The most bytes of activations one run may hold at once (<c>Agent:MaxRunMemoryBytes</c>); half the
    /// memory this process may use unless set. A run that would need more is refused before it allocates.
    /// </summary>
    public long MaxRunMemoryBytes { get; set; } = DefaultRunMemoryBytes;

    /// <summary>Half of what the runtime says this process may use (the machine's memory, or its container's limit).</summary>
    public static long DefaultRunMemoryBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    /// <summary>Called with every value a run produces (tests check each against its inferred shape).</summary>
    internal Action<string, Tensor>? Observe { get; set; }

    /// <exception cref="ModelException">The bytes are not an ONNX model this engine can run; nothing was run.</exception>
    public static OnnxModel Load(ReadOnlyMemory<byte> bytes)
    {
        if (!MemoryMarshal.TryGetArray(bytes, out var segment))
        {
            segment = bytes.ToArray();
        }

        using var stream = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        return Load(stream);
    }

    /// <summary>
    /// Loads a model from a stream (a file, or a model decrypted into memory), reading each weight
    /// straight into the array that holds it (<see cref="ModelReader"/>): the weights are never held twice.
    /// </summary>
    /// <exception cref="ModelException">The stream does not hold an ONNX model this engine can run.</exception>
    public static OnnxModel Load(Stream stream)
    {
        var read = ModelReader.Read(stream);
        return Load(read.Model, read.RawData);
    }

    /// <param name="branch">An If node's branch: it may have no nodes (it hands on an outer value) and no inputs.</param>
    private static OnnxModel Load(ModelProto model, IReadOnlyDictionary<TensorProto, Array> rawData, bool branch = false)
    {
        var graph = model.Graph ?? throw new ModelException("The ONNX file holds no graph.");
        if (graph.Node.Count == 0 && !branch)
        {
            throw new ModelException("The ONNX graph has no nodes.");
        }

        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset is < MinOpset or > MaxOpset)
        {
            throw new ModelException($"The model imports opset {opset}; this agent runs opsets {MinOpset} to {MaxOpset}. Re-export it with one of those.");
        }

        LegacyOpsets.Upgrade(graph, opset);
        OneDimensionalWindows.Lift(graph, opset);
        ControlFlow.Prepare(graph, opset, sub => Load(new ModelProto { Graph = sub, OpsetImport = { model.OpsetImport } }, rawData, branch: true));
        var unsupported = graph.Node
            .Where(n => n.Domain is not ("" or "ai.onnx") || OperatorCatalog.Find(n.OpType) is null or { Internal: true })
            .Select(n => $"{(n.Domain is "" or "ai.onnx" ? "" : n.Domain + ".")}{n.OpType} (node '{NodeName(n)}')")
            .ToList();
        if (unsupported.Count > 0)
        {
            throw new ModelException($"The model uses operators this agent cannot run (opset {opset}): {string.Join(", ", unsupported)}.");
        }

        foreach (var node in graph.Node)
        {
            OperatorCatalog.Check(node, opset);
        }

        var initializers = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in graph.Initializer)
        {
            try
            {
                initializers[t.Name] = Initializers.Read(t, rawData.GetValueOrDefault(t));

                // Any protobuf copy of the weights (values listed rather than raw) is not needed again.
                t.FloatData.Clear();
            }
            catch (ModelException ex)
            {
                throw new ModelException($"Initializer '{t.Name}': {ex.Message}");
            }
        }

        var inputs = graph.Input.Select(i => i.Name).Where(n => !initializers.ContainsKey(n)).ToList();
        var outputs = graph.Output.Select(o => o.Name).ToList();
        if ((inputs.Count == 0 && !branch) || outputs.Count == 0)
        {
            throw new ModelException("The ONNX graph must have at least one input (not an initializer) and one output.");
        }

        var declared = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToDictionary(i => i.Name, DeclaredShape, StringComparer.Ordinal);
        var reliedOn = new HashSet<string>(StringComparer.Ordinal);
        var fused = GraphFusion.Fuse(Fold(TopologicalOrder(graph, initializers.Keys.Concat(inputs)), initializers, declared, opset, reliedOn), initializers, outputs);
        var order = GraphFusion.FuseOnShapes(fused, initializers, outputs, ShapeInference.Infer(graph, fused, initializers, reliedOn, opset).ShapeOf);
        var read = new HashSet<string>(order.SelectMany(n => n.Input).Concat(outputs), StringComparer.Ordinal);
        foreach (var unread in initializers.Keys.Where(k => !read.Contains(k)).ToList())
        {
            initializers.Remove(unread);
        }

        return new OnnxModel(graph, order, initializers, inputs, outputs, opset, declared.Where(d => reliedOn.Contains(d.Key)).ToDictionary(StringComparer.Ordinal),
            ShapeInference.Infer(graph, order, initializers, reliedOn, opset));
    }

    /// <summary>
    /// Most elements a model's folded constants may hold together (1 GiB of float32): what would pass it
    /// is computed at run time instead of kept, so a model cannot make its loader hold unbounded memory.
    /// VGG-19 as the ONNX backend data ships it makes a 102 M-element weight with ConstantOfShape, which
    /// ONNX Runtime folds at load; computing it on every run was 40 % of the engine's time.
    /// </summary>
    private const long MaxFoldedElements = Tensor.MaxElements;

    /// <summary>
    /// Constant folding, once at load: a node whose inputs are all initializers or earlier folded values
    /// (weight transposes, Constant nodes, shape arithmetic) runs now and its outputs become
    /// initializers; so does Shape of a graph input whose declared dimensions are all fixed, which folds
    /// the Shape → Gather → Concat → Reshape chains exporters write. Returns the nodes left to run; <paramref name="reliedOn"/> gets the inputs whose
    /// declared shapes were folded in, which every run then checks (other inputs' declarations are not
    /// enforced: exporters often fix a batch dimension of 1 that the operators do not depend on).
    /// </summary>
    private static List<NodeProto> Fold(List<NodeProto> order, Dictionary<string, Tensor> initializers, Dictionary<string, int?[]?> declared, long opset, HashSet<string> reliedOn)
    {
        var remaining = new List<NodeProto>(order.Count);
        var budget = MaxFoldedElements;
        foreach (var node in order)
        {
            var inputs = node.Input.Where(n => n.Length > 0).ToList();
            Tensor[]? results = null;
            if (node.OpType == "Shape" && inputs.Count == 1 && declared.GetValueOrDefault(inputs[0]) is { } dims && dims.All(d => d is not null))
            {
                results = [Shapes.ShapeOf([.. dims.Select(d => d!.Value)], new OpContext(node, [], opset))];
                reliedOn.Add(inputs[0]);
            }
            else if (inputs.All(initializers.ContainsKey))
            {
                results = FoldNode(node, [.. node.Input.Select(n => n.Length == 0 ? null : initializers[n])], opset, budget);
            }

            if (results is null || results.Sum(r => (long)r.Length) > budget)
            {
                remaining.Add(node);
                continue;
            }

            budget -= results.Sum(r => (long)r.Length);

            for (var i = 0; i < node.Output.Count && i < results.Length; i++)
            {
                if (node.Output[i].Length > 0)
                {
                    initializers[node.Output[i]] = results[i];
                }
            }
        }

        return remaining;
    }

    /// <summary>A graph input's declared dimensions: a number where fixed, null where symbolic; null when it declares no shape.</summary>
    private static int?[]? DeclaredShape(ValueInfoProto input) =>
        input.Type?.TensorType?.Shape is { } shape
            ? [.. shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue is >= 0 and <= int.MaxValue ? (int?)d.DimValue : null)]
            : null;

    /// <summary>One node of the execution plan: its operator's guard, the slots of its inputs (−1 for an absent one) and outputs, the slots it is the last reader of, and its attributes by name.</summary>
    private sealed record Step(NodeProto Node, NodeGuard Guard, int[] Inputs, int[] Outputs, int[] Dead, IReadOnlyDictionary<string, AttributeProto> Attributes);

    /// <summary>
    /// What a refusal says when a kernel stopped on a .NET check (an index outside its arrays) rather
    /// than on a declaration's: the model is still refused, and the fuzzer counts it as a finding.
    /// </summary>
    internal const string KernelFailed = "the kernel stopped on these inputs (";

    /// <summary>A node with its attributes by name and its operator's guard (slots are filled in by the plan).</summary>
    private static Step MakeStep(NodeProto node, long opset)
    {
        var attributes = node.Attribute.GroupBy(a => a.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return new Step(node, new NodeGuard(OperatorCatalog.Get(node.OpType), node, attributes, opset), [], [], [], attributes);
    }

    /// <summary>
    /// Runs one node's operator on constants at load (folding), checked as a run checks it; null when
    /// its outputs would be too large to keep (or of a size its rule cannot tell): the node then runs
    /// at run time instead, under the run's memory budget, rather than allocating at load unbounded.
    /// </summary>
    /// <param name="budget">Elements the model's folded constants may still hold.</param>
    private static Tensor[]? FoldNode(NodeProto node, Tensor?[] args, long opset, long budget)
    {
        var step = MakeStep(node, opset);
        int[]?[] expected;
        try
        {
            expected = step.Guard.Expect(args);
        }
        catch (ModelException ex)
        {
            throw new ModelException($"{node.OpType} (node '{NodeName(node)}'): {ex.Message}");
        }

        return expected.Any(shape => shape is null) || expected.Sum(shape => Tensor.ElementCount(shape)) > budget
            ? null
            : Invoke(step, args, opset, null, null, long.MaxValue, 0, out _);
    }

    /// <summary>
    /// Runs one step: its inputs checked against the operator's declaration, the outputs' size against
    /// what the run may still hold, then the kernel, then its outputs against the declared shapes.
    /// Every error names the node.
    /// </summary>
    private static Tensor[] Invoke(Step step, Tensor?[] args, long opset, GpuRun? gpu, PackedWeights? packed, long budget, long liveBytes, out long flops)
    {
        var node = step.Node;
        try
        {
            var expected = step.Guard.Expect(args);
            var needed = liveBytes;
            foreach (var shape in expected)
            {
                needed += shape is null ? 0 : 4 * Tensor.ElementCount(shape);
            }

            if (needed > budget)
            {
                throw new ModelException($"the run would hold {needed:N0} bytes of activations here, over this agent's limit of {budget:N0} (Agent:MaxRunMemoryBytes).");
            }

            var context = new OpContext(node, args, opset, gpu, step.Attributes, packed);
            var results = step.Guard.Schema.Run(context);
            NodeGuard.Confirm(results, expected);
            flops = step.Guard.Schema.CountFlops(context, results);
            return results;
        }
        catch (ModelException ex)
        {
            throw new ModelException($"{node.OpType} (node '{NodeName(node)}'): {ex.Message}");
        }
        catch (Exception ex) when (ModelException.IsBadInput(ex))
        {
            throw new ModelException($"{node.OpType} (node '{NodeName(node)}'): {KernelFailed}{ex.Message}).", ex);
        }
    }

    /// <summary>Runs the graph on <paramref name="feeds"/> (one tensor per input) and returns the outputs by name.</summary>
    /// <exception cref="ModelException">A missing input or shapes that do not fit the graph.</exception>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> feeds) => Run(feeds, out _);

    /// <summary>Runs the graph and counts its floating-point operations (2·M·K·N per product, one per output element otherwise).</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> feeds, out long flops) => Run(feeds, out flops, out _);

    /// <summary>
    /// Runs the graph, counting FLOPs and the most bytes of intermediate values alive at once (each value
    /// is dropped after the last node that reads it, so this is the live set, not the sum).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> feeds, out long flops, out long peakLiveBytes) =>
        Run(feeds, null, out flops, out peakLiveBytes);

    /// <summary>
    /// Runs the graph on <paramref name="device"/> (null: the CPU kernels). Outputs come back in host
    /// memory; the device memory the run used is freed before this returns, the model's weights stay
    /// on the device for the next run.
    /// </summary>
    /// <param name="profile">When given, collects the time spent per operator type (a GPU run then waits for each node's kernels).</param>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> feeds, GpuDevice? device, out long flops, out long peakLiveBytes, OperatorProfile? profile = null)
    {
        ArgumentNullException.ThrowIfNull(feeds);
        ObjectDisposedException.ThrowIf(_wiped, this);
        if (device is null)
        {
            return Execute(feeds, null, profile, out flops, out peakLiveBytes);
        }

        lock (_devices)
        {
            _devices.Add(device);
        }

        lock (device.Gate)
        {
            using var gpu = new GpuRun(device, _weights);
            var outputs = Execute(feeds, gpu, profile, out flops, out peakLiveBytes);
            device.CountLaunches(gpu.Launches);
            return outputs.ToDictionary(o => o.Key, o => o.Value.Device is null ? o.Value : new Tensor(o.Value.Shape, o.Value.Data), StringComparer.Ordinal);
        }
    }

    /// <summary>The profile of the run this thread is in, so that subgraphs (If, Loop, Scan) add their nodes to it.</summary>
    [ThreadStatic]
    private static OperatorProfile? _profile;

    /// <summary>The profile of the run this thread is in (null outside one or when not profiling).</summary>
    internal static OperatorProfile? CurrentProfile => _profile;

    private Dictionary<string, Tensor> Execute(IReadOnlyDictionary<string, Tensor> feeds, GpuRun? gpu, OperatorProfile? profile, out long flops, out long peakLiveBytes)
    {
        var outerProfile = _profile;
        _profile = profile;
        // The memory plans and the pool carry over between runs; a concurrent run gets fresh ones. A
        // GPU run's values live in device memory, so only CPU runs are planned.
        var buffers = Interlocked.Exchange(ref _buffers, null) ?? new Buffers();
        var completed = false;
        try
        {
            var shapes = InputShapes(feeds);
            using var scope = buffers.Start(gpu is null && PlanMemory ? shapes : null, _steps.Length);
            var outputs = Execute(feeds, shapes, gpu, buffers, profile, out flops, out peakLiveBytes);
            completed = true;
            return outputs;
        }
        finally
        {
            _profile = outerProfile;
            buffers.Finish(completed);
            LastRunMemory = buffers.LastRun;

            // A concurrent run's buffers returned first are displaced: wiped before they are let go,
            // since they hold the developer's activations.
            Interlocked.Exchange(ref _buffers, buffers)?.Fill(0f);
        }
    }

    /// <summary>The fed inputs' shapes, rank first, in input order: which memory plan a run uses.</summary>
    private int[] InputShapes(IReadOnlyDictionary<string, Tensor> feeds)
    {
        var key = new List<int>();
        foreach (var name in Inputs)
        {
            var shape = feeds.TryGetValue(name, out var fed) ? fed.Shape : [];
            key.Add(shape.Length);
            key.AddRange(shape);
        }

        return [.. key];
    }

    private Dictionary<string, Tensor> Execute(IReadOnlyDictionary<string, Tensor> feeds, int[] shapes, GpuRun? gpu, Buffers buffers, OperatorProfile? profile, out long flops, out long peakLiveBytes)
    {
        flops = 0;
        peakLiveBytes = 0;
        long liveBytes = 0;
        var values = (Tensor?[])_template.Clone();
        for (var i = 0; i < Inputs.Count; i++)
        {
            var name = Inputs[i];
            var t = feeds.TryGetValue(name, out var fed) ? fed : throw new ModelException($"The model needs an input named '{name}' and none was given.");
            if (_declared.GetValueOrDefault(name) is { } dims && (dims.Length != t!.Rank || dims.Where((d, axis) => d is not null && d != t.Shape[axis]).Any()))
            {
                throw new ModelException($"Input '{name}' has shape [{string.Join(", ", t!.Shape)}]; the model declares [{string.Join(", ", dims.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"))}].");
            }

            values[_inputSlots[i]] = t;
            liveBytes += Bytes(t!);
        }

        CheckPeak(feeds, shapes);

        for (var s = 0; s < _steps.Length; s++)
        {
            var step = _steps[s];
            var args = new Tensor?[step.Inputs.Length];
            for (var i = 0; i < args.Length; i++)
            {
                args[i] = step.Inputs[i] < 0 ? null : values[step.Inputs[i]];
            }

            var started = profile is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            buffers.BeginStep(s);
            var results = Invoke(step, args, _opset, gpu, _packed, MaxRunMemoryBytes, liveBytes, out var stepFlops);
            buffers.EndStep(s, results);
            if (profile is not null)
            {
                gpu?.Synchronize();
                profile.Add(step.Node.OpType, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            }

            for (var i = 0; i < step.Outputs.Length && i < results.Length; i++)
            {
                if (step.Outputs[i] >= 0)
                {
                    values[step.Outputs[i]] = results[i];
                    Observe?.Invoke(step.Node.Output[i], results[i]);
                    liveBytes += Bytes(results[i]);
                    gpu?.Retain(results[i]);
                    buffers.Retain(results[i]);
                }
            }

            peakLiveBytes = Math.Max(peakLiveBytes, liveBytes);
            flops += stepFlops;
            foreach (var dead in step.Dead)
            {
                if (values[dead] is { } released)
                {
                    values[dead] = null;
                    liveBytes -= Bytes(released);
                    gpu?.Release(released);
                    buffers.Release(s, released);
                }
            }
        }

        var outputs = new Dictionary<string, Tensor>(Outputs.Count, StringComparer.Ordinal);
        for (var i = 0; i < Outputs.Count; i++)
        {
            outputs[Outputs[i]] = values[_outputSlots[i]] ?? throw new ModelException($"The graph's output '{Outputs[i]}' was not computed.");
        }

        return outputs;
    }

    /// <summary>
    /// Refuses a run whose activations would exceed <see cref="MaxRunMemoryBytes"/> before anything is
    /// allocated: the live set is worked out from the shapes the fed inputs give every value (values
    /// whose size only the run can tell count as nothing here; the check before each node covers them).
    /// </summary>
    /// <param name="shapes">The fed inputs' shapes (<see cref="InputShapes"/>), which key the estimate.</param>
    private void CheckPeak(IReadOnlyDictionary<string, Tensor> feeds, int[] shapes)
    {
        if (!_peaks.TryGetValue(shapes, out var peak))
        {
            peak = EstimatePeak(feeds);
            if (_peaks.Count < 64)
            {
                _peaks[shapes] = peak;
            }
        }

        if (peak > MaxRunMemoryBytes)
        {
            throw new ModelException($"At these input shapes the model needs at least {peak:N0} bytes of activations at once; this agent's limit is {MaxRunMemoryBytes:N0} (Agent:MaxRunMemoryBytes). Run fewer rows at a time.");
        }
    }

    private long EstimatePeak(IReadOnlyDictionary<string, Tensor> feeds)
    {
        var fed = Inputs.Where(feeds.ContainsKey).ToDictionary(n => n, n => feeds[n].Shape, StringComparer.Ordinal);
        ShapeInference.Result shapes;
        try
        {
            shapes = ShapeInference.Infer(_inputs, _order, _initializers, new HashSet<string>(), _opset, fed);
        }
        catch (ModelException)
        {
            // Shapes that do not fit: the run names the node where they fail.
            return 0;
        }

        long Known(string name) => shapes.ShapeOf(name) is { } shape && shape.All(d => d >= 0) ? 4 * shape.Aggregate(1L, (p, d) => p > long.MaxValue / Math.Max(d, 1) ? long.MaxValue / 8 : p * d) : 0;
        var live = fed.Values.Sum(s => 4 * Tensor.ElementCount(s));
        var peak = live;
        foreach (var step in _steps)
        {
            live += step.Node.Output.Where(o => o.Length > 0).Sum(Known);
            peak = Math.Max(peak, live);
            foreach (var dead in step.Dead)
            {
                live -= Known(_slotNames[dead]);
            }
        }

        return peak;
    }

    private static long Bytes(Tensor t) => t.Type switch
    {
        ElementType.Float32 => 4L * t.Length,
        ElementType.Int64 => 8L * t.Length,
        ElementType.Sequence => t.Items.Sum(Bytes),
        ElementType.String => t.Strings.Sum(s => 2L * s.Length),
        _ => t.Length,
    };

    private static List<string[]> DeadAfter(List<NodeProto> order, IReadOnlyList<string> outputs, IEnumerable<string> initializers)
    {
        var keep = new HashSet<string>(outputs.Concat(initializers), StringComparer.Ordinal);
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < order.Count; i++)
        {
            foreach (var name in order[i].Input.Concat(order[i].Output).Where(n => n.Length > 0))
            {
                lastUse[name] = i;
            }
        }

        var dead = order.Select(_ => new List<string>()).ToList();
        foreach (var (name, last) in lastUse)
        {
            if (!keep.Contains(name))
            {
                dead[last].Add(name);
            }
        }

        return [.. dead.Select(d => d.ToArray())];
    }

    private static string NodeName(NodeProto node) => OperatorCatalog.NodeName(node);

    /// <summary>Kahn's algorithm: a node runs once all its inputs exist; a node left over is on a cycle or reads an undefined value.</summary>
    private static List<NodeProto> TopologicalOrder(GraphProto graph, IEnumerable<string> available)
    {
        var defined = new HashSet<string>(available, StringComparer.Ordinal);
        var remaining = graph.Node.ToList();
        var order = new List<NodeProto>(remaining.Count);
        while (remaining.Count > 0)
        {
            var ready = remaining.Where(n => n.Input.All(i => i.Length == 0 || defined.Contains(i))).ToList();
            if (ready.Count == 0)
            {
                var stuck = remaining[0];
                var missing = stuck.Input.First(i => i.Length > 0 && !defined.Contains(i));
                var produced = graph.Node.Any(n => n.Output.Contains(missing));
                throw new ModelException(produced
                    ? $"The ONNX graph has a cycle through node '{NodeName(stuck)}'."
                    : $"Node '{NodeName(stuck)}' reads '{missing}', which no input, initializer or node defines.");
            }

            foreach (var node in ready)
            {
                if (node.Output.Count == 0)
                {
                    throw new ModelException($"Node '{NodeName(node)}' has no output.");
                }

                order.Add(node);
                remaining.Remove(node);
                defined.UnionWith(node.Output.Where(o => o.Length > 0));
            }
        }

        foreach (var output in graph.Output)
        {
            if (!defined.Contains(output.Name))
            {
                throw new ModelException($"Graph output '{output.Name}' is never computed.");
            }
        }

        return order;
    }
}
