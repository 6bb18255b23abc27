using System.Buffers.Binary;
using Cocoon.Shared.Ton;

namespace Cocoon.Web.Tests.Identity;

/// <summary>Each way a bag of cells can be wrong gets its own clear refusal.</summary>
public sealed class BagOfCellsBadInputTests
{
    private static byte[] Comment => Convert.FromBase64String(TonVectors.CommentBoc);

    private static string Refusal(byte[] boc, BagOfCellsLimits? limits = null)
    {
        var error = Assert.Throws<TonFormatException>(() => BagOfCells.Parse(boc, limits));
        Assert.Equal("bad_boc", error.Code);
        return error.Message;
    }

    [Fact]
    public void A_wrong_checksum_is_refused()
    {
        var boc = Comment;
        boc[^1] ^= 0x01;
        Assert.Contains("CRC32C", Refusal(boc), StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_magic_is_refused()
    {
        var boc = Comment;
        boc[0] = 0x00;
        Assert.Contains("magic", Refusal(boc), StringComparison.Ordinal);
        Assert.Contains("ends early", Refusal([0xb5, 0xee]), StringComparison.Ordinal);
        Assert.Contains("ends early", Refusal([]), StringComparison.Ordinal);
    }

    [Fact]
    public void Truncation_and_trailing_bytes_are_refused()
    {
        Assert.NotEmpty(Refusal(Comment[..^6]));
        Assert.NotEmpty(Refusal([.. Comment, 0x00]));
    }

    [Fact]
    public void A_cell_referring_to_itself_or_back_is_refused_as_a_cycle()
    {
        // Two cells, no CRC: cell 0 refers to cell 1, and cell 1 refers back to cell 0.
        byte[] boc =
        [
            0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, // magic; flags: no index, no CRC, 1-byte refs; 1-byte offsets
            0x02, 0x01, 0x00, 0x06, 0x00,       // 2 cells, 1 root, 0 absent, 6 bytes of cells, root = cell 0
            0x01, 0x00, 0x01,                   // cell 0: 1 ref, no data, ref → 1
            0x01, 0x00, 0x00,                   // cell 1: 1 ref, no data, ref → 0 (back)
        ];
        Assert.Contains("refers back", Refusal(boc), StringComparison.Ordinal);
        boc[^1] = 0x01; // cell 1 → itself
        Assert.Contains("refers back", Refusal(boc), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tree_deeper_than_the_limit_is_refused()
    {
        var cell = new Cell([], 0, []);
        for (var i = 0; i < 200; i++)
        {
            cell = new Cell([], 0, [cell]);
        }

        var boc = BagOfCells.Serialize(cell);
        Assert.Equal(200, BagOfCells.ParseSingleRoot(boc).Depth);
        Assert.Contains("deeper than 128", Refusal(boc, BagOfCellsLimits.StateInit), StringComparison.Ordinal);
    }

    [Fact]
    public void Declared_sizes_beyond_the_limits_are_refused_before_any_work()
    {
        var boc = Comment;
        boc[6] = 0xff; // cell count, with the checksum made right again
        BinaryPrimitives.WriteUInt32LittleEndian(boc.AsSpan(boc.Length - 4), TonChecksums.Crc32C(boc.AsSpan(0, boc.Length - 4)));
        Assert.Contains("at most", Refusal(boc, new BagOfCellsLimits { MaxCells = 16 }), StringComparison.Ordinal);
        Assert.Contains("at most 8 are accepted", Refusal(Comment, new BagOfCellsLimits { MaxBytes = 8 }), StringComparison.Ordinal);
    }

    [Fact]
    public void A_cell_without_its_completion_tag_or_with_too_many_refs_is_refused()
    {
        byte[] noTag = [0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 0x01, 0x01, 0x00, 0x03, 0x00, 0x00, 0x01, 0x00];
        Assert.Contains("completion tag", Refusal(noTag), StringComparison.Ordinal);
        byte[] fiveRefs = [0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 0x01, 0x01, 0x00, 0x02, 0x00, 0x05, 0x00];
        Assert.Contains("at most 4", Refusal(fiveRefs), StringComparison.Ordinal);
    }

    [Fact]
    public void Exotic_cells_other_than_libraries_are_refused()
    {
        // A pruned-branch-typed exotic cell (type byte 1) at level 0.
        byte[] boc = [0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 0x01, 0x01, 0x00, 0x03, 0x00, 0x08, 0x02, 0x01];
        Assert.Contains("exotic cell of type 1", Refusal(boc), StringComparison.Ordinal);
    }
}
