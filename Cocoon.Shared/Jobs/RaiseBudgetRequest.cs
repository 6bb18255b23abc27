namespace Cocoon.Shared.Jobs;

/// <summary>Body of <c>POST /api/jobs/{id}/budget</c>: how much more to hold for a job.</summary>
public sealed record RaiseBudgetRequest
{
    /// <summary>Nanotons to add to the job's budget, as a string of digits.</summary>
    public string? Add { get; init; }
}
