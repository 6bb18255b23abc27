using Cocoon.Web.Data;

namespace Cocoon.Web.Features.Payouts;

/// <summary>Writes the payout audit log, inside the caller's transaction (an action and its record commit together).</summary>
internal static class PayoutAudits
{
    public static void Record(CocoonDbContext db, DateTimeOffset now, Guid? actor, string action, string detail, Guid? batchId = null, Guid? itemId = null, long? totalBefore = null, long? totalAfter = null) =>
        db.Set<PayoutAudit>().Add(new PayoutAudit
        {
            At = now,
            ActorId = actor,
            Action = action,
            Detail = detail.Length > 1000 ? detail[..1000] : detail,
            BatchId = batchId,
            ItemId = itemId,
            TotalBefore = totalBefore,
            TotalAfter = totalAfter,
        });
}
