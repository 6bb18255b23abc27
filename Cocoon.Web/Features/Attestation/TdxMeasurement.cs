namespace Cocoon.Web.Features.Attestation;

/// <summary>A TD measurement (MRTD) admins allow: an agent whose quote reports it may be hardware-attested.</summary>
public sealed class TdxMeasurement
{
    public Guid Id { get; set; }

    /// <summary>48 bytes as 96 lower-case hex digits.</summary>
    public required string Mrtd { get; set; }

    /// <summary>What image this is, for people ("cocoon-agent 1.4 on Ubuntu 24.04 TD").</summary>
    public required string Label { get; set; }

    public Guid? AddedByAccountId { get; set; }

    public DateTimeOffset AddedAt { get; set; }
}

/// <summary>A measurement as the API shows it.</summary>
public sealed record TdxMeasurementView(Guid Id, string Mrtd, string Label, string? AddedBy, DateTimeOffset AddedAt);

/// <summary>An admin's request to allow a measurement.</summary>
public sealed record AddTdxMeasurementRequest(string? Mrtd, string? Label);

/// <summary>A measurement request that cannot be stored; the message says why.</summary>
public sealed class InvalidMeasurementException(string message) : Exception(message);
