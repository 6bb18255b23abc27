namespace Cocoon.Shared.Ton;

/// <summary>
/// Input that is not a valid TON structure (address, bag of cells, state init). <see cref="Code"/> is
/// machine-readable and stable; the message says what was wrong in words.
/// </summary>
public sealed class TonFormatException(string code, string message) : FormatException(message)
{
    /// <summary>A stable code such as <c>bad_boc</c> or <c>bad_address</c>.</summary>
    public string Code { get; } = code;
}
