using System.Text;
using Cocoon.Shared.Ton;

namespace Cocoon.Web.Tests.Identity;

public sealed class TonPrimitivesTests
{
    [Fact]
    public void Checksums_match_their_check_values()
    {
        Assert.Equal(0x31C3, TonChecksums.Crc16Xmodem("123456789"u8));
        Assert.Equal(0xE3069283u, TonChecksums.Crc32C("123456789"u8));
    }

    [Theory]
    [InlineData("0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3", true, false, "EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJB")]
    [InlineData("0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3", false, false, "UQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi41-E")]
    [InlineData("0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3", true, true, "kQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi47nL")]
    [InlineData("0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3", false, true, "0QAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4-QO")]
    [InlineData("-1:e56754f83426f69b09267bd876ac97c44821345b7e266bd956a7bfbfb98df35c", true, false, "Ef_lZ1T4NCb2mwkme9h2rJfESCE0W34ma9lWp7-_uY3zXDvq")]
    [InlineData("-1:e56754f83426f69b09267bd876ac97c44821345b7e266bd956a7bfbfb98df35c", false, false, "Uf_lZ1T4NCb2mwkme9h2rJfESCE0W34ma9lWp7-_uY3zXGYv")]
    [InlineData(TonVectors.V4R2Address, false, false, "UQDnHytfNeXNUvfdRx41nlsVqT_DuI_WvFzMrNnVr7n8hT3L")]
    [InlineData(TonVectors.V4R2Address, true, false, "EQDnHytfNeXNUvfdRx41nlsVqT_DuI_WvFzMrNnVr7n8hWAO")]
    public void Addresses_convert_between_raw_and_friendly_forms(string raw, bool bounceable, bool testnet, string friendly)
    {
        var address = TonAddress.ParseRaw(raw);
        Assert.Equal(friendly, address.ToFriendly(bounceable, testnet));
        Assert.Equal(raw, address.ToRaw());

        var parsed = TonAddress.ParseFriendly(friendly, out var parsedBounceable, out var parsedTestnet);
        Assert.Equal(address, parsed);
        Assert.Equal(bounceable, parsedBounceable);
        Assert.Equal(testnet, parsedTestnet);

        // The standard base64 alphabet is accepted too.
        var standard = address.ToFriendly(bounceable, testnet, urlSafe: false);
        Assert.Equal(address, TonAddress.Parse(standard));
    }

    [Theory]
    [InlineData("EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJC")] // checksum off by one
    [InlineData("EQAs9VlT6S776tq3unJcP5Ogsj-ELLunLXuOb1EKcOQi4wJ")] // too short
    [InlineData("0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422")] // hash too short
    [InlineData("0:zzf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3")]
    [InlineData("300:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3")]
    [InlineData("")]
    public void Bad_addresses_are_refused_with_a_code(string text)
    {
        var error = Assert.Throws<TonFormatException>(() => TonAddress.Parse(text));
        Assert.Equal("bad_address", error.Code);
        Assert.False(TonAddress.TryParse(text, out _));
    }

    [Fact]
    public void Comment_cell_hash_matches_ton_core()
    {
        var cell = BagOfCells.ParseSingleRoot(Convert.FromBase64String(TonVectors.CommentBoc));
        Assert.Equal(TonVectors.CommentHash, Convert.ToHexStringLower(cell.Hash));
        var slice = cell.BeginParse();
        Assert.Equal(0UL, slice.LoadUInt(32));
        Assert.Equal("Payout #42", Encoding.UTF8.GetString(slice.LoadBytes(slice.RemainingBits / 8)));
    }

    [Fact]
    public void External_message_with_references_hashes_like_ton_core()
    {
        var cell = BagOfCells.ParseSingleRoot(Convert.FromBase64String(TonVectors.ExternalMessageBoc));
        Assert.Equal(TonVectors.ExternalMessageHash, Convert.ToHexStringLower(cell.Hash));
        Assert.Equal(2, cell.Refs.Count);
    }

    [Fact]
    public void External_message_normalized_hash_matches_tep_467()
    {
        var cell = BagOfCells.ParseSingleRoot(Convert.FromBase64String(TonVectors.ExternalMessageBoc));
        Assert.Equal(TonVectors.ExternalMessageNormalizedHash, Convert.ToHexStringLower(ExternalMessageHash.Normalized(cell)));

        // The same message with its body moved into a reference normalizes to the same hash; an internal message is refused.
        var slice = cell.BeginParse();
        slice.LoadUInt(2);
        var source = slice.LoadAddress();
        var destination = slice.LoadAddress();
        slice.LoadCoins();
        Assert.False(slice.LoadBit());
        Assert.False(slice.LoadBit());
        var withRef = new CellBuilder().StoreUInt(2, 2).StoreAddress(source).StoreAddress(destination).StoreCoins(0).StoreBit(false).StoreBit(true).StoreRef(slice.Rest()).Build();
        Assert.NotEqual(TonVectors.ExternalMessageHash, Convert.ToHexStringLower(withRef.Hash));
        Assert.Equal(TonVectors.ExternalMessageNormalizedHash, Convert.ToHexStringLower(ExternalMessageHash.Normalized(withRef)));
        Assert.Equal("bad_message", Assert.Throws<TonFormatException>(() => ExternalMessageHash.Normalized(CellBuilder.Comment("x"))).Code);
    }

    [Fact]
    public void V4R2_state_init_gives_the_address_version_and_key()
    {
        var state = StateInit.FromBase64(TonVectors.V4R2StateInit);
        Assert.Equal(TonVectors.V4R2Address, state.AddressIn(0).ToRaw());
        Assert.Equal("feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0", Convert.ToHexStringLower(state.Code!.Hash));

        var (version, key) = WalletContracts.ReadPublicKey(state);
        Assert.Equal(WalletVersion.V4R2, version);
        Assert.Equal(TonVectors.PublicKey, Convert.ToHexStringLower(key));
    }

    [Fact]
    public void Serialising_and_parsing_again_keeps_every_hash()
    {
        foreach (var boc in new[] { TonVectors.V4R2StateInit, TonVectors.ExternalMessageBoc, TonVectors.CommentBoc })
        {
            var cell = BagOfCells.ParseSingleRoot(Convert.FromBase64String(boc));
            var again = BagOfCells.ParseSingleRoot(BagOfCells.Serialize(cell));
            Assert.Equal(Convert.ToHexStringLower(cell.Hash), Convert.ToHexStringLower(again.Hash));
        }
    }

    [Fact]
    public void Library_cells_hash_as_exotic_cells_and_identify_w5_beta()
    {
        var target = Convert.FromHexString("e4cf3b2f4c6d6a61ea0f2b5447d266785b26af3637db2deee6bcd1aa826f3412");
        var library = new Cell([2, .. target], 8 + 256, [], CellType.Library);
        Assert.StartsWith("f3d7ca53", Convert.ToHexStringLower(library.Hash), StringComparison.Ordinal);
        Assert.EndsWith("4b93", Convert.ToHexStringLower(library.Hash), StringComparison.Ordinal);

        var key = Convert.FromHexString(TonVectors.PublicKey);
        var data = WalletCells.Data(prefixBits: 1 + 32 + 80, key);
        var state = WalletCells.StateInit(library, data);
        var reparsed = StateInit.FromCell(BagOfCells.ParseSingleRoot(BagOfCells.Serialize(state.Root)));
        var (version, read) = WalletContracts.ReadPublicKey(reparsed);
        Assert.Equal(WalletVersion.V5Beta, version);
        Assert.Equal(key, read);
    }

    [Fact]
    public void Unknown_code_is_refused()
    {
        var code = new Cell([0xAB], 8, []);
        var state = WalletCells.StateInit(code, WalletCells.Data(64, new byte[32]));
        var error = Assert.Throws<TonFormatException>(() => WalletContracts.ReadPublicKey(state));
        Assert.Equal("unknown_wallet", error.Code);
    }
}
