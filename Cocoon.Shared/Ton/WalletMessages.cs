namespace Cocoon.Shared.Ton;

/// <summary>One transfer a wallet asks for: an internal message (MessageRelaxed) and its send mode.</summary>
public sealed record WalletTransfer(TonAddress Destination, ulong Value, bool Bounce, Cell? Body, int Mode);

/// <summary>
/// A wallet's signed external message, read: the wallet it is for, the state init it carries (on its
/// first message), the fields it signed, the signature, and the transfers it asks for. Reads wallet
/// v4r2 and v5r1 (W5) bodies; checking the signature and seqno is the chain's business.
/// </summary>
public sealed record WalletExternal(
    TonAddress Wallet, StateInit? Init, uint WalletId, uint ValidUntil, uint Seqno, byte[] Signature, Cell SignedCell, IReadOnlyList<WalletTransfer> Transfers)
{
    private const uint W5SignedExternal = 0x7369676e;
    private const uint SendMessageAction = 0x0ec3c86d;

    /// <summary>Reads an external message; <paramref name="version"/> says how to read its body (the chain knows the wallet's code).</summary>
    /// <exception cref="TonFormatException">It is not an external message to a wallet of that version.</exception>
    public static WalletExternal Parse(Cell message, Func<TonAddress, StateInit?, WalletVersion> version)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(version);
        var slice = message.BeginParse();
        if (slice.LoadUInt(2) != 2)
        {
            throw new TonFormatException("bad_message", "This is not an external inbound message (ext_in_msg_info$10).");
        }

        slice.LoadAddress();
        var wallet = slice.LoadAddress() ?? throw new TonFormatException("bad_message", "The external message names no destination.");
        slice.LoadCoins();
        StateInit? init = null;
        if (slice.LoadBit())
        {
            init = slice.LoadBit() ? StateInit.FromCell(slice.LoadRef()) : StateInit.FromCell(InlineStateInit(slice));
        }

        var body = slice.LoadBit() ? slice.LoadRef().BeginParse() : slice;
        return version(wallet, init) switch
        {
            WalletVersion.V4R2 => V4(wallet, init, body),
            WalletVersion.V5R1 => V5(wallet, init, body),
            var other => throw new TonFormatException("unknown_wallet", $"Wallet {other} messages are not read here."),
        };
    }

    private static WalletExternal V4(TonAddress wallet, StateInit? init, CellSlice body)
    {
        var signature = body.LoadBytes(64);
        var signed = body.Rest();
        var fields = signed.BeginParse();
        var walletId = (uint)fields.LoadUInt(32);
        var validUntil = (uint)fields.LoadUInt(32);
        var seqno = (uint)fields.LoadUInt(32);
        var op = fields.LoadUInt(8);
        var transfers = new List<WalletTransfer>();
        if (op == 0)
        {
            while (fields.RemainingRefs > 0)
            {
                var mode = (int)fields.LoadUInt(8);
                transfers.Add(Internal(fields.LoadRef(), mode));
            }
        }

        return new WalletExternal(wallet, init, walletId, validUntil, seqno, signature, signed, transfers);
    }

    private static WalletExternal V5(TonAddress wallet, StateInit? init, CellSlice body)
    {
        var signed = body.AllBut(512);
        var signature = body.LoadBytes(64);
        var fields = signed.BeginParse();
        if (fields.LoadUInt(32) != W5SignedExternal)
        {
            throw new TonFormatException("bad_message", "The W5 body is not a signed external request.");
        }

        var walletId = (uint)fields.LoadUInt(32);
        var validUntil = (uint)fields.LoadUInt(32);
        var seqno = (uint)fields.LoadUInt(32);
        var actions = new List<WalletTransfer>();
        for (var list = fields.LoadMaybeRef(); list is not null && (list.BitLength > 0 || list.Refs.Count > 0);)
        {
            // out_list$_ prev:^(OutList n) action:OutAction; the last action is on top.
            var node = list.BeginParse();
            var previous = node.LoadRef();
            if (node.LoadUInt(32) != SendMessageAction)
            {
                throw new TonFormatException("bad_message", "Only send-message actions are accepted.");
            }

            var mode = (int)node.LoadUInt(8);
            actions.Insert(0, Internal(node.LoadRef(), mode));
            list = previous;
        }

        return new WalletExternal(wallet, init, walletId, validUntil, seqno, signature, signed, actions);
    }

    /// <summary>Reads an internal MessageRelaxed: int_msg_info$0, the value, and the body.</summary>
    private static WalletTransfer Internal(Cell message, int mode)
    {
        var slice = message.BeginParse();
        if (slice.LoadBit())
        {
            throw new TonFormatException("bad_message", "A wallet's transfer must be an internal message.");
        }

        slice.LoadBit(); // ihr_disabled
        var bounce = slice.LoadBit();
        slice.LoadBit(); // bounced
        slice.LoadAddress();
        var destination = slice.LoadAddress() ?? throw new TonFormatException("bad_message", "A transfer names no destination.");
        var value = slice.LoadCoins();
        slice.LoadMaybeRef(); // extra currencies
        slice.LoadCoins(); // ihr_fee
        slice.LoadCoins(); // fwd_fee
        slice.LoadUInt(64);
        slice.LoadUInt(32);
        if (slice.LoadBit())
        {
            if (slice.LoadBit())
            {
                slice.LoadRef();
            }
            else
            {
                InlineStateInit(slice);
            }
        }

        Cell? body = slice.LoadBit() ? slice.LoadRef() : slice.RemainingBits > 0 || slice.RemainingRefs > 0 ? slice.Rest() : null;
        return new WalletTransfer(destination, value, bounce, body, mode);
    }

    /// <summary>Reads a StateInit written inline and returns it as a cell of its own.</summary>
    internal static Cell InlineStateInit(CellSlice slice)
    {
        var builder = new CellBuilder();
        var splitDepth = slice.LoadBit();
        builder.StoreBit(splitDepth);
        if (splitDepth)
        {
            builder.StoreUInt(slice.LoadUInt(5), 5);
        }

        var special = slice.LoadBit();
        builder.StoreBit(special);
        if (special)
        {
            builder.StoreUInt(slice.LoadUInt(2), 2);
        }

        for (var i = 0; i < 3; i++)
        {
            var present = slice.LoadBit();
            builder.StoreBit(present);
            if (present)
            {
                builder.StoreRef(slice.LoadRef());
            }
        }

        return builder.Build();
    }
}
