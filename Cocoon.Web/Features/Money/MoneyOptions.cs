using System.ComponentModel.DataAnnotations;

namespace Cocoon.Web.Features.Money;

/// <summary>Prices and fees (section Cocoon:Money). Amounts in nanotons (1 TON = 10^9).</summary>
public sealed class MoneyOptions
{
    public const string Section = "Cocoon:Money";

    /// <summary>The platform's fee, as a percentage charged on top of each unit's cost.</summary>
    [Range(0, 100, ErrorMessage = "Cocoon:Money:FeePercent must be between 0 and 100.")]
    public int FeePercent { get; set; } = 10;

    /// <summary>An agent's price per TFLOP executed until its owner sets one.</summary>
    [Range(0, 1_000_000_000_000, ErrorMessage = "Cocoon:Money:DefaultPricePerTflop must be between 0 and 1000 TON.")]
    public long DefaultPricePerTflop { get; set; }
}

/// <summary>What a unit costs: fixed before it runs from its FLOPs and the agent's price.</summary>
public static class Pricing
{
    /// <summary>The provider's cost (FLOPs ÷ 10^12 × price, rounded up to a nanoton) and the platform's fee on it (rounded down).</summary>
    public static (long Cost, long Fee) UnitCharge(double flops, long pricePerTflop, int feePercent)
    {
        if (!double.IsFinite(flops) || flops <= 0 || pricePerTflop <= 0)
        {
            return (0, 0);
        }

        // decimal throughout: FLOPs and prices are the agent's words and must not overflow into a negative charge.
        var cost = decimal.Ceiling((decimal)Math.Min(flops, 1e24) * pricePerTflop / 1_000_000_000_000m);
        var capped = cost > long.MaxValue / 4 ? long.MaxValue / 4 : (long)cost;
        return (capped, (long)((decimal)capped * feePercent / 100));
    }
}
