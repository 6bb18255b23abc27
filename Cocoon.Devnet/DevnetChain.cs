using System.Security.Cryptography;
using Cocoon.Shared.Ton;
using NSec.Cryptography;

namespace Cocoon.Devnet;

/// <summary>A transaction as the devnet records it (what toncenter v3 shows of one).</summary>
public sealed record DevnetTransaction(
    TonAddress Account, byte[] Hash, ulong Lt, long Now, bool Aborted,
    DevnetMessage? InMessage, IReadOnlyList<DevnetMessage> OutMessages, DateTimeOffset VisibleAt);

/// <summary>A message in or out of a transaction: external inbound when <see cref="Source"/> is null.</summary>
public sealed record DevnetMessage(byte[] Hash, TonAddress? Source, TonAddress? Destination, ulong Value, bool Bounce, bool Bounced, Cell? Body)
{
    /// <summary>An external message's TEP-467 normalized hash (null for internal messages).</summary>
    public byte[]? NormalizedHash { get; init; }
}

/// <summary>Faults the devnet is told to inject, for tests of what reads it.</summary>
public sealed class DevnetFaults
{
    /// <summary>How long new transactions stay invisible to the transactions API (indexing delay).</summary>
    public TimeSpan IndexingDelay { get; set; }

    /// <summary>Answer this many API requests with <see cref="FailStatus"/> before answering properly.</summary>
    public int FailNext { get; set; }

    public int FailStatus { get; set; } = 429;

    /// <summary>The next transfer's destination transaction aborts (its compute phase fails).</summary>
    public bool AbortNext { get; set; }

    /// <summary>The next bounceable transfer bounces: the destination aborts and the value goes back, flagged bounced.</summary>
    public bool BounceNext { get; set; }
}

/// <summary>
/// A small in-memory TON chain: accounts with balances, wallets v4r2 and W5 that accept signed external
/// messages (signature, seqno, valid_until and wallet id checked as the contracts do), transfers between
/// accounts recorded as transactions with logical times, and a faucet. It is what tests and the
/// Development quick start use instead of the internet.
/// </summary>
public sealed class DevnetChain(TimeProvider clock)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TonAddress, Account> _accounts = [];
    private readonly List<DevnetTransaction> _transactions = [];
    private ulong _lt = 1_000_000;

    public DevnetFaults Faults { get; } = new();

    private sealed class Account
    {
        public ulong Balance { get; set; }

        public WalletVersion? Wallet { get; set; }

        public byte[]? PublicKey { get; set; }

        public uint WalletId { get; set; }

        public uint Seqno { get; set; }
    }

    /// <summary>Gives <paramref name="nanotons"/> to an address (from nowhere), recorded as an incoming transfer from the faucet.</summary>
    public void Fund(TonAddress address, ulong nanotons)
    {
        lock (_lock)
        {
            var account = AccountOf(address);
            account.Balance += nanotons;
            Record(address, false, new DevnetMessage(RandomNumberGenerator.GetBytes(32), Faucet, address, nanotons, false, false, CellBuilder.Comment("faucet")), []);
        }
    }

    /// <summary>The address the faucet's transfers come from.</summary>
    public static TonAddress Faucet { get; } = new(0, SHA256.HashData("cocoon-devnet-faucet"u8));

    public ulong BalanceOf(TonAddress address)
    {
        lock (_lock)
        {
            return _accounts.TryGetValue(address, out var a) ? a.Balance : 0;
        }
    }

    public uint SeqnoOf(TonAddress address)
    {
        lock (_lock)
        {
            return _accounts.TryGetValue(address, out var a) ? a.Seqno : 0;
        }
    }

    /// <summary>Accepts a wallet's external message and applies it, or says why the wallet would reject it.</summary>
    /// <exception cref="TonFormatException">The message is malformed or the wallet refuses it; the code says which.</exception>
    public byte[] Send(byte[] boc)
    {
        var root = BagOfCells.ParseSingleRoot(boc);
        lock (_lock)
        {
            var message = WalletExternal.Parse(root, VersionOf);
            var account = AccountOf(message.Wallet);

            // A wallet not deployed yet is judged by the state init it brings, applied only if every check passes.
            var (version, publicKey, seqno, walletId) = (account.Wallet, account.PublicKey, account.Seqno, account.WalletId);
            var signatureAllowed = true;
            if (version is null)
            {
                var init = message.Init ?? throw new TonFormatException("uninitialized", "The wallet is not deployed and the message carries no state init.");
                if (!init.AddressIn(message.Wallet.Workchain).Equals(message.Wallet))
                {
                    throw new TonFormatException("bad_state_init", "The state init does not hash to the wallet's address.");
                }

                (version, publicKey) = WalletContracts.ReadPublicKey(init);
                var data = init.Data!.BeginParse();
                if (version == WalletVersion.V5R1)
                {
                    signatureAllowed = data.LoadBit();
                }

                seqno = (uint)data.LoadUInt(32);
                walletId = (uint)data.LoadUInt(32);
            }

            var key = PublicKey.Import(SignatureAlgorithm.Ed25519, publicKey!, KeyBlobFormat.RawPublicKey);
            var signed = SignatureAlgorithm.Ed25519.Verify(key, message.SignedCell.Hash, message.Signature);
            var expired = message.ValidUntil <= clock.GetUtcNow().ToUnixTimeSeconds();

            // In each contract's own order, with its exit codes.
            if (version == WalletVersion.V5R1)
            {
                Refuse(!signed, "bad_signature", "The wallet's signature does not verify (exit code 135).");
                Refuse(!signatureAllowed, "signature_disabled", "This W5 wallet has signatures disabled (exit code 132).");
                Refuse(message.Seqno != seqno, "bad_seqno", $"The message's seqno is {message.Seqno}; the wallet expects {seqno} (exit code 133).");
                Refuse(message.WalletId != walletId, "bad_wallet_id", $"The message is for wallet id {message.WalletId}; this wallet is {walletId} (exit code 134).");
                Refuse(expired, "expired", "The message's valid_until has passed (exit code 136).");
            }
            else
            {
                Refuse(expired, "expired", "The message's valid_until has passed (exit code 36).");
                Refuse(message.Seqno != seqno, "bad_seqno", $"The message's seqno is {message.Seqno}; the wallet expects {seqno} (exit code 33).");
                Refuse(message.WalletId != walletId, "bad_wallet_id", $"The message is for wallet id {message.WalletId}; this wallet is {walletId} (exit code 34).");
                Refuse(!signed, "bad_signature", "The wallet's signature does not verify (exit code 35).");
            }

            (account.Wallet, account.PublicKey, account.Seqno, account.WalletId) = (version, publicKey, seqno, walletId);
            account.Seqno++;
            ulong total;
            try
            {
                total = message.Transfers.Aggregate(0UL, (sum, t) => checked(sum + t.Value));
            }
            catch (OverflowException)
            {
                throw new TonFormatException("bad_message", "The transfers add up to more than 2^64 nanotons.");
            }

            var external = new DevnetMessage(root.Hash.ToArray(), null, message.Wallet, 0, false, false, null) { NormalizedHash = ExternalMessageHash.Normalized(root) };
            if (total > account.Balance)
            {
                // The action phase fails and the transaction's state is rolled back: the seqno is not used up.
                account.Seqno--;
                Record(message.Wallet, true, external, []);
                return root.Hash.ToArray();
            }

            var outs = new List<DevnetMessage>();
            foreach (var transfer in message.Transfers)
            {
                account.Balance -= transfer.Value;
                var sent = new DevnetMessage(RandomNumberGenerator.GetBytes(32), message.Wallet, transfer.Destination, transfer.Value, transfer.Bounce, false, transfer.Body);
                outs.Add(sent);
            }

            Record(message.Wallet, false, external, outs);
            foreach (var sent in outs)
            {
                Deliver(sent);
            }

            return root.Hash.ToArray();
        }
    }

    /// <summary>Transactions of an account, newest first, as far as indexing has reached.</summary>
    public IReadOnlyList<DevnetTransaction> TransactionsOf(TonAddress account, int offset, int limit, bool descending)
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            var visible = _transactions.Where(t => t.Account.Equals(account) && t.VisibleAt <= now);
            visible = descending ? visible.OrderByDescending(t => t.Lt) : visible.OrderBy(t => t.Lt);
            return [.. visible.Skip(offset).Take(limit)];
        }
    }

    /// <summary>The transaction an inbound or outbound message (by hash, or an external message by its normalized hash) belongs to.</summary>
    public IReadOnlyList<DevnetTransaction> TransactionsByMessage(byte[] messageHash)
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            return [.. _transactions.Where(t => t.VisibleAt <= now && (t.InMessage?.Hash.AsSpan().SequenceEqual(messageHash) == true || t.InMessage?.NormalizedHash?.AsSpan().SequenceEqual(messageHash) == true || t.OutMessages.Any(m => m.Hash.AsSpan().SequenceEqual(messageHash))))];
        }
    }

    private static void Refuse(bool refused, string code, string message)
    {
        if (refused)
        {
            throw new TonFormatException(code, message);
        }
    }

    private void Deliver(DevnetMessage message)
    {
        var destination = AccountOf(message.Destination!.Value);
        if (Faults.BounceNext && message.Bounce)
        {
            Faults.BounceNext = false;
            var back = new DevnetMessage(RandomNumberGenerator.GetBytes(32), message.Destination, message.Source, message.Value, false, true, null);
            Record(message.Destination!.Value, true, message, [back]);
            AccountOf(message.Source!.Value).Balance += message.Value;
            Record(message.Source!.Value, false, back, []);
            return;
        }

        var aborted = Faults.AbortNext;
        Faults.AbortNext = false;
        destination.Balance += message.Value;
        Record(message.Destination!.Value, aborted, message, []);
    }

    private WalletVersion VersionOf(TonAddress address, StateInit? init)
    {
        if (_accounts.TryGetValue(address, out var known) && known.Wallet is { } version)
        {
            return version;
        }

        return init is null
            ? throw new TonFormatException("uninitialized", "The wallet is not deployed and the message carries no state init.")
            : WalletContracts.ReadPublicKey(init).Version;
    }

    private Account AccountOf(TonAddress address)
    {
        if (!_accounts.TryGetValue(address, out var account))
        {
            _accounts[address] = account = new Account();
        }

        return account;
    }

    private void Record(TonAddress account, bool aborted, DevnetMessage? inMessage, IReadOnlyList<DevnetMessage> outMessages)
    {
        var now = clock.GetUtcNow();
        _lt += 1000;
        _transactions.Add(new DevnetTransaction(account, RandomNumberGenerator.GetBytes(32), _lt, now.ToUnixTimeSeconds(), aborted, inMessage, outMessages, now + Faults.IndexingDelay));
    }
}
