namespace Cocoon.Agent.Inference.Memory;

/// <summary>
/// What one run of a model asked for, recorded to plan the runs after it (ONNX Runtime's "memory
/// pattern" works the same way): the float arrays each step's operator took from <see cref="Buffers"/>
/// on the run's thread, in order, and which of them became the step's outputs, which were scratch
/// space, and which outputs only reshaped a value already alive. Arrays that share storage form one
/// group, alive from the step that asked for it to the last step that reads any value in it; a group
/// still alive when the run ends holds a graph output and is never planned.
/// </summary>
internal sealed class AllocationTrace(int steps)
{
    private readonly List<Group> _groups = [];
    private readonly List<(int Length, int Group)>[] _requests = [.. Enumerable.Range(0, steps).Select(_ => new List<(int, int)>())];
    private readonly int[]?[] _outputs = new int[]?[steps];

    /// <summary>The group each live array belongs to, with the number of live values held in it.</summary>
    private readonly Dictionary<float[], (int Group, int Values)> _live = new(ReferenceEqualityComparer.Instance);

    /// <summary>Arrays handed out during the current step, by request.</summary>
    private readonly List<float[]> _handedOut = [];

    public int Steps => steps;

    /// <summary>Step <paramref name="step"/>'s operator took <paramref name="array"/>.</summary>
    public void Requested(int step, float[] array)
    {
        var group = -1;
        if (array.Length > 0)
        {
            group = _groups.Count;
            _groups.Add(new Group(array.Length, step));
        }

        _requests[step].Add((array.Length, group));
        _handedOut.Add(array);
    }

    /// <summary>Step <paramref name="step"/> ended with <paramref name="results"/>: which request or live value each one's storage is.</summary>
    public void Produced(int step, Tensor[] results)
    {
        var groups = new int[results.Length];
        for (var i = 0; i < results.Length; i++)
        {
            groups[i] = -1;
            if (results[i] is not { Type: ElementType.Float32, Device: null, InArena: false } t)
            {
                continue;
            }

            var array = t.Values.Array;
            var request = _handedOut.FindIndex(a => ReferenceEquals(a, array));
            if (request >= 0)
            {
                groups[i] = _requests[step][request].Group;
            }
            else if (_live.TryGetValue(array, out var alive))
            {
                groups[i] = alive.Group;
            }

            if (groups[i] >= 0)
            {
                _live[array] = (groups[i], _live.GetValueOrDefault(array).Values + 1);
            }
        }

        _outputs[step] = groups;
        _handedOut.Clear();
    }

    /// <summary>A value read last by <paramref name="step"/> died.</summary>
    public void Died(int step, Tensor t)
    {
        if (t is not { Type: ElementType.Float32, Device: null, InArena: false } || !_live.TryGetValue(t.Values.Array, out var alive))
        {
            return;
        }

        var group = _groups[alive.Group];
        group.Last = Math.Max(group.Last, step);
        if (alive.Values > 1)
        {
            _live[t.Values.Array] = (alive.Group, alive.Values - 1);
        }
        else
        {
            _live.Remove(t.Values.Array);
        }
    }

    /// <summary>Groups, with requests and outputs, as the run left them: groups still alive hold graph outputs.</summary>
    public (IReadOnlyList<Group> Groups, List<(int Length, int Group)>[] Requests, int[]?[] Outputs) Finish()
    {
        foreach (var (group, _) in _live.Values)
        {
            _groups[group].Escapes = true;
        }

        return (_groups, _requests, _outputs);
    }

    /// <summary>Storage shared by one or more values (or scratch space of one step), alive over steps [First, Last].</summary>
    internal sealed class Group(int length, int first)
    {
        public int Length { get; } = length;

        public int First { get; } = first;

        public int Last { get; set; } = first;

        /// <summary>Holds a value still alive after the run (a graph output): never placed in the arena.</summary>
        public bool Escapes { get; set; }
    }
}
