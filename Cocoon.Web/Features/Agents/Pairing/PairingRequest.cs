using System.Text;
using Cocoon.Web.Data;
using Microsoft.AspNetCore;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Cocoon.Web.Features.Agents.Pairing;

/// <summary>
/// What an agent said about itself when it asked for a pairing code, and where the request came from:
/// shown to the provider before they approve the code, so a code someone else made (and sent them to
/// approve) is recognisable as not theirs.
/// </summary>
public sealed class PairingRequest
{
    public Guid Id { get; set; }

    /// <summary>The user code without separators, upper-case.</summary>
    public required string UserCode { get; set; }

    public required string AgentName { get; set; }

    public required string Machine { get; set; }

    public required string Device { get; set; }

    public required string AgentVersion { get; set; }

    /// <summary>The client address the portal saw (behind a proxy: the forwarded one when forwarding is configured).</summary>
    public required string RequestedFrom { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>The form a person types and the store keeps: letters and digits, upper-case.</summary>
    public static string Normalize(string? userCode) =>
        new([.. (userCode ?? "").Where(char.IsAsciiLetterOrDigit).Select(char.ToUpperInvariant)]);
}

/// <summary>A pairing request as the approval page shows it.</summary>
public sealed record PairingRequestView(string AgentName, string Machine, string Device, string AgentVersion, string RequestedFrom, DateTimeOffset RequestedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// Records each device authorization the portal answers with a user code (OpenIddict handles the
/// endpoint; this runs before it writes the response). The agent's own words are capped and stripped
/// of control characters: they are shown to a person, and a hostile agent chooses them.
/// </summary>
public sealed class PairingRequestRecorder(CocoonDbContext db, TimeProvider clock) : IOpenIddictServerHandler<ApplyDeviceAuthorizationResponseContext>
{
    public const string AgentNameParameter = "agent_name";
    public const string MachineParameter = "machine";
    public const string DeviceParameter = "device";
    public const string AgentVersionParameter = "agent_version";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyDeviceAuthorizationResponseContext>()
            .UseScopedHandler<PairingRequestRecorder>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ApplyDeviceAuthorizationResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.UserCode is not { Length: > 0 } userCode || !string.IsNullOrEmpty(context.Response.Error))
        {
            return;
        }

        var now = clock.GetUtcNow();
        var http = context.Transaction.GetHttpRequest();
        string Said(string parameter) => Clean((string?)context.Request?.GetParameter(parameter));
        db.Add(new PairingRequest
        {
            Id = Guid.CreateVersion7(),
            UserCode = PairingRequest.Normalize(userCode),
            AgentName = Said(AgentNameParameter),
            Machine = Said(MachineParameter),
            Device = Said(DeviceParameter),
            AgentVersion = Said(AgentVersionParameter),
            RequestedFrom = http?.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            RequestedAt = now,
            ExpiresAt = now + TimeSpan.FromSeconds(context.Response.ExpiresIn ?? 600),
        });
        await db.SaveChangesAsync(context.CancellationToken);
        await db.Set<PairingRequest>().Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(context.CancellationToken);
    }

    private static string Clean(string? said)
    {
        var text = new StringBuilder();
        foreach (var c in (said ?? "").Trim())
        {
            // No control or format characters (bidi overrides, zero-width): what is shown is what was sent.
            if (!char.IsControl(c) && char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format && text.Length < 100)
            {
                text.Append(c);
            }
        }

        return text.Length == 0 ? "(not given)" : text.ToString();
    }
}
