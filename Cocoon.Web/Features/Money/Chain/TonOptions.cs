using Cocoon.Shared.Ton;

namespace Cocoon.Web.Features.Money.Chain;

/// <summary>The chain the portal takes deposits on (section Cocoon:Ton). Without a deposit address, deposits are off.</summary>
public sealed class TonOptions
{
    public const string Section = "Cocoon:Ton";

    /// <summary>mainnet or testnet (the local devnet passes as testnet).</summary>
    public string Network { get; set; } = "testnet";

    /// <summary>The platform's address developers send TON to (any form).</summary>
    public string? DepositAddress { get; set; }

    public ToncenterOptions Toncenter { get; set; } = new();

    /// <summary>Deposits below this (nanotons) are held for finance to review instead of credited.</summary>
    public long MinimumDeposit { get; set; } = 10_000_000;

    /// <summary>In Development only: the local devnet's URL, for its faucet and the test wallet's transfers.</summary>
    public string? DevnetUrl { get; set; }

    public bool DepositsEnabled => !string.IsNullOrWhiteSpace(DepositAddress);

    public TonAddress Deposit => TonAddress.Parse(DepositAddress!);

    /// <summary>Every problem with these settings, in words; empty when they hold.</summary>
    /// <param name="development">Whether the portal runs in Development (the only place a devnet or a plain-http indexer is taken).</param>
    public IEnumerable<string> Problems(bool development = true)
    {
        if (!development && !string.IsNullOrWhiteSpace(DevnetUrl))
        {
            yield return $"{Section}:DevnetUrl is for Development only: a devnet's faucet makes free TON.";
        }

        if (Network is not ("mainnet" or "testnet"))
        {
            yield return $"{Section}:Network must be mainnet or testnet, not '{Network}'.";
        }

        if (!DepositsEnabled)
        {
            yield break;
        }

        if (!TonAddress.TryParse(DepositAddress, out _))
        {
            yield return $"{Section}:DepositAddress is not a TON address.";
        }

        if (!Uri.TryCreate(Toncenter.BaseUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            yield return $"{Section}:Toncenter:BaseUrl must be an absolute http(s) URL of a toncenter API (v3).";
        }
        else if (!development && (url.Scheme != "https" || url.IsLoopback))
        {
            yield return $"{Section}:Toncenter:BaseUrl must be https and not this machine outside Development (deposits are credited from what it says).";
        }

        if (MinimumDeposit < 0)
        {
            yield return $"{Section}:MinimumDeposit must not be negative.";
        }
    }
}

public sealed class ToncenterOptions
{
    /// <summary>e.g. https://toncenter.com (the API's /api/v3 paths are appended), or the local devnet.</summary>
    public string? BaseUrl { get; set; }

    public string? ApiKey { get; set; }
}
