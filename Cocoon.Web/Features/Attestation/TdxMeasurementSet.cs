using Cocoon.Shared.Attestation;

namespace Cocoon.Web.Features.Attestation;

/// <summary>
/// One image admins allow, measured whole: MRTD (the TD's firmware and initial memory), RTMR0–3 (what
/// the firmware, boot loader, kernel, command line and initrd extended at boot) and the owner fields
/// MRCONFIGID, MROWNER and MROWNERCONFIG (all zeros when the image's host does not set them). A quote
/// is hardware-attested only when every one of these equals its set's; MRTD alone measures firmware,
/// which any kernel can boot on.
/// </summary>
public sealed class TdxMeasurementSet
{
    /// <summary>The registers of a set in the order they are compared and shown.</summary>
    public static readonly string[] RegisterNames = ["MRTD", "RTMR0", "RTMR1", "RTMR2", "RTMR3", "MRCONFIGID", "MROWNER", "MROWNERCONFIG"];

    /// <summary>A register the image does not set: 48 zero bytes.</summary>
    public static readonly string Unset = new('0', 96);

    public Guid Id { get; set; }

    /// <summary>What image this is, for people ("cocoon-agent 1.4 on Ubuntu 24.04 TD").</summary>
    public required string Name { get; set; }

    /// <summary>How the image was built and checked (a reproducible-build recipe, a commit, who reviewed it).</summary>
    public string? Note { get; set; }

    // Each register: 48 bytes as 96 lower-case hex digits.
    public required string Mrtd { get; set; }

    public required string Rtmr0 { get; set; }

    public required string Rtmr1 { get; set; }

    public required string Rtmr2 { get; set; }

    public required string Rtmr3 { get; set; }

    public required string MrConfigId { get; set; }

    public required string MrOwner { get; set; }

    public required string MrOwnerConfig { get; set; }

    public Guid? AddedByAccountId { get; set; }

    public DateTimeOffset AddedAt { get; set; }

    /// <summary>The registers in <see cref="RegisterNames"/> order.</summary>
    public string[] Registers() => [Mrtd, Rtmr0, Rtmr1, Rtmr2, Rtmr3, MrConfigId, MrOwner, MrOwnerConfig];

    /// <summary>A quote's registers in <see cref="RegisterNames"/> order, as lower-case hex.</summary>
    public static string[] Registers(TdxQuote quote)
    {
        ArgumentNullException.ThrowIfNull(quote);
        return [.. new[] { quote.MrTd, quote.Rtmrs[0], quote.Rtmrs[1], quote.Rtmrs[2], quote.Rtmrs[3], quote.MrConfigId, quote.MrOwner, quote.MrOwnerConfig }
            .Select(Convert.ToHexStringLower)];
    }
}

/// <summary>A measurement set as the API shows it; registers the image does not set are null.</summary>
public sealed record TdxMeasurementSetView(
    Guid Id, string Name, string? Note,
    string Mrtd, string Rtmr0, string Rtmr1, string Rtmr2, string Rtmr3,
    string? MrConfigId, string? MrOwner, string? MrOwnerConfig,
    string? AddedBy, DateTimeOffset AddedAt);

/// <summary>
/// An admin's request to allow an image. Either every register (MRTD and RTMR0–3 required; the owner
/// fields when the image sets them) or a reference quote from the image, hex or base64, whose registers
/// are taken as the set.
/// </summary>
public sealed record AddTdxMeasurementSetRequest(
    string? Name, string? Note = null,
    string? Mrtd = null, string? Rtmr0 = null, string? Rtmr1 = null, string? Rtmr2 = null, string? Rtmr3 = null,
    string? MrConfigId = null, string? MrOwner = null, string? MrOwnerConfig = null,
    string? Quote = null);

/// <summary>A measurement request that cannot be stored; the message says why.</summary>
public sealed class InvalidMeasurementException(string message) : Exception(message);
