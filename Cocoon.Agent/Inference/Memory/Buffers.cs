namespace Cocoon.Agent.Inference.Memory;

/// <summary>
/// A model's memory for the float arrays its operators write (outputs and scratch space), run by run.
/// The first run with a given set of input shapes takes arrays from a pool of dead values' arrays
/// (keyed by length) and records what it asked for (<see cref="AllocationTrace"/>); from it a
/// <see cref="MemoryPlan"/> places every array that does not leave the run in one
/// <see cref="MemoryArena"/>, and later runs with those shapes write their values straight into it.
/// A request that does not match the plan (a shape that depends on the data, say) gets a pooled array
/// and costs the plan its place: the next run traces again, and after <see cref="MaxReplans"/> such
/// runs those shapes stay unplanned. An output that does not lie where the plan put it is copied out
/// of the arena, so a plan can cost speed but never correctness.
/// </summary>
internal sealed class Buffers
{
    /// <summary>Arrays the pool keeps per length: enough for the few same-sized values a graph has alive at once.</summary>
    private const int KeptPerLength = 4;

    /// <summary>Sets of input shapes a model keeps plans for (a job's last work unit often has fewer rows).</summary>
    private const int MaxPlans = 8;

    /// <summary>Runs with one set of shapes that may miss their plan before those shapes are left unplanned.</summary>
    private const int MaxReplans = 3;

    [ThreadStatic]
    private static Buffers? _current;

    private readonly Dictionary<int, Stack<float[]>> _free = [];
    private readonly HashSet<float[]> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<float[], int> _live = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<int[], Planning> _plans = new(ShapesComparer.Instance);

    private MemoryArena? _arena;
    private Planning? _planning;
    private MemoryPlan? _plan;
    private AllocationTrace? _trace;
    private int _step;
    private int _request;
    private int _misses;
    private long _copiesBefore;

    /// <summary>How the last run used memory: whether it ran from a plan, the plan's sizes and how often it missed.</summary>
    public MemoryReport LastRun { get; private set; } = MemoryReport.Unplanned;

    /// <summary>A zeroed float buffer for an operator: planned or pooled during a run, a new array outside one.</summary>
    public static FloatBuffer Floats(int length) => _current is { } buffers ? buffers.Take(length, clear: true) : FloatBuffer.Of(new float[length]);

    /// <summary>
    /// A float buffer whose every element the caller is about to write (a product's output, which the
    /// GEMM starts from the bias, the residual or zeros): a reused one keeps a dead value's elements,
    /// rather than being cleared for nothing (1.5 % of the transformer block's time at batch 32).
    /// </summary>
    public static FloatBuffer Overwritten(int length) => _current is { } buffers ? buffers.Take(length, clear: false) : FloatBuffer.Of(new float[length]);

    /// <summary>
    /// Starts a run of <paramref name="steps"/> steps with inputs of <paramref name="shapes"/> (null:
    /// no planning, as on a GPU run): from the plan for those shapes when there is one, else traced.
    /// Operators on this thread take their buffers here until the returned scope ends.
    /// </summary>
    public Scope Start(int[]? shapes, int steps)
    {
        (_plan, _trace, _planning, _misses, _step, _request) = (null, null, null, 0, -1, 0);
        if (shapes is not null)
        {
            if (!_plans.TryGetValue(shapes, out var planning))
            {
                if (_plans.Count >= MaxPlans)
                {
                    _plans.Remove(_plans.MinBy(p => p.Value.LastUsed).Key);
                }

                _plans[shapes] = planning = new Planning();
            }

            planning.LastUsed = Environment.TickCount64;
            _planning = planning;
            // A plan's arena was made (or grown) when the plan was.
            if (planning.Plan is { } plan)
            {
                _plan = plan;
            }
            else if (planning.Replans < MaxReplans)
            {
                _trace = new AllocationTrace(steps);
            }
        }

        _copiesBefore = _arena?.Copies ?? 0;
        var previous = _current;
        _current = this;
        return new Scope(previous);
    }

    /// <summary>Step <paramref name="step"/> of the run begins: its requests are counted from the first.</summary>
    public void BeginStep(int step) => (_step, _request) = (step, 0);

    /// <summary>
    /// Step <paramref name="step"/> produced <paramref name="results"/>: traced, or checked against the
    /// plan, an output lying anywhere in the arena but its planned place being copied out.
    /// </summary>
    public void EndStep(int step, Tensor[] results)
    {
        _trace?.Produced(step, results);
        if (_plan is null)
        {
            return;
        }

        for (var i = 0; i < results.Length; i++)
        {
            if (results[i] is { InArena: true } t && _arena!.OffsetOf(t.Values) != _plan.Output(step, i))
            {
                var copy = Pooled(t.Length, clear: false);
                t.Values.Span.CopyTo(copy.Span);
                results[i] = new Tensor(t.Shape, copy);
                _misses++;
            }
        }
    }

    /// <summary>A value holding <paramref name="t"/>'s elements became live.</summary>
    public void Retain(Tensor t)
    {
        if (t is { Type: ElementType.Float32, Device: null, InArena: false } && _owned.Contains(t.Data))
        {
            _live[t.Data] = _live.GetValueOrDefault(t.Data) + 1;
        }
    }

    /// <summary>A value read last by step <paramref name="step"/> died: a pooled array goes back to the pool once no live value shares it.</summary>
    public void Release(int step, Tensor t)
    {
        _trace?.Died(step, t);
        if (t is not { Type: ElementType.Float32, Device: null, InArena: false } || !_live.TryGetValue(t.Data, out var count))
        {
            return;
        }

        if (count > 1)
        {
            _live[t.Data] = count - 1;
            return;
        }

        _live.Remove(t.Data);
        if (!_free.TryGetValue(t.Data.Length, out var stack))
        {
            _free[t.Data.Length] = stack = new Stack<float[]>();
        }

        if (stack.Count < KeptPerLength)
        {
            stack.Push(t.Data);
        }
        else
        {
            _owned.Remove(t.Data);
        }
    }

    /// <summary>
    /// After a run (<paramref name="completed"/>: it produced its outputs): a trace becomes its shapes'
    /// plan, a plan that missed is dropped, and the pool keeps only its free arrays (outputs belong to
    /// the caller now; arrays used inside an operator are left to the garbage collector).
    /// </summary>
    public void Finish(bool completed)
    {
        var copies = (_arena?.Copies ?? 0) - _copiesBefore;
        if (_planning is { } planning && completed)
        {
            if (_trace is not null)
            {
                var plan = MemoryPlan.Build(_trace);
                if (_arena is null || _arena.Length < plan.Length)
                {
                    _arena = new MemoryArena(plan.Length);
                }

                planning.Plan = plan;

                // The pool held this run's values; from now on the arena holds them. They are the
                // developer's data: wiped before the garbage collector gets them.
                Fill(0f);
                _free.Clear();
            }
            else if (_plan is not null && _misses > 0)
            {
                planning.Plan = null;
                planning.Replans++;
            }
        }

        LastRun = _plan is { } used
            ? new MemoryReport(true, 4L * _arena!.Length, 4L * used.Length, 4L * used.PeakLiveFloats, 4L * used.SumFloats, used.Groups, _misses, copies)
            : MemoryReport.Unplanned with { ArenaBytes = 4L * (_arena?.Length ?? 0), Copies = copies };
        (_plan, _trace, _planning) = (null, null, null);
        _owned.Clear();
        _owned.UnionWith(FreeArrays);

        _live.Clear();
    }

    /// <summary>The arrays kept between runs: the arena and the pool's free arrays.</summary>
    public IEnumerable<float[]> Kept => _arena is null ? FreeArrays : FreeArrays.Prepend(_arena.Array);

    private IEnumerable<float[]> FreeArrays => _free.Values.SelectMany(stack => stack);

    /// <summary>Sets every element of the arena and of the pool's free arrays to <paramref name="value"/>.</summary>
    public void Fill(float value)
    {
        foreach (var array in Kept)
        {
            array.AsSpan().Fill(value);
        }
    }

    private FloatBuffer Take(int length, bool clear)
    {
        if (_plan is not null && _step >= 0)
        {
            var offset = _plan.Request(_step, _request++, length);
            if (offset >= 0)
            {
                var region = _arena!.Region(offset, length);
                if (clear)
                {
                    region.Span.Clear();
                }

                return region;
            }

            if (offset == MemoryPlan.Unforeseen)
            {
                _misses++;
            }
        }

        var pooled = Pooled(length, clear);
        if (_trace is not null && _step >= 0)
        {
            _trace.Requested(_step, pooled.Array);
        }

        return pooled;
    }

    /// <summary>An array from the pool of dead values' arrays, or a new one.</summary>
    private FloatBuffer Pooled(int length, bool clear)
    {
        float[] array;
        if (length > 0 && _free.TryGetValue(length, out var stack) && stack.TryPop(out var reused))
        {
            if (clear)
            {
                Array.Clear(reused);
            }

            array = reused;
        }
        else
        {
            array = new float[length];
            _owned.Add(array);
        }

        return FloatBuffer.Of(array);
    }

    public readonly struct Scope(Buffers? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }

    /// <summary>One set of input shapes: its plan once traced, and how often a run missed it.</summary>
    private sealed class Planning
    {
        public MemoryPlan? Plan { get; set; }

        public int Replans { get; set; }

        public long LastUsed { get; set; }
    }

    /// <summary>Input shapes (as <see cref="OnnxModel"/> lays them out) compared by value, for keying plans and estimates.</summary>
    internal sealed class ShapesComparer : IEqualityComparer<int[]>
    {
        public static ShapesComparer Instance { get; } = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(obj.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
