namespace Cocoon.Shared.Jobs;

/// <summary>Body of <c>POST /api/jobs/{id}/priority</c>: the job's order among its owner's own jobs.</summary>
public sealed record SetPriorityRequest
{
    /// <summary>−10 to 10, higher first; 0 is every job's default.</summary>
    public int? Priority { get; init; }
}
