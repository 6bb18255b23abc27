namespace Cocoon.Web.Tests.Identity;

/// <summary>Seeded byte mutations for fuzzing: flips, overwrites with edge values, cuts, duplications, insertions.</summary>
internal sealed class Mutator(int seed)
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x07, 0x08, 0x0f, 0x10, 0x7f, 0x80, 0xfe, 0xff];
    private readonly Random _random = new(seed);

    public Random Random => _random;

    public byte[] Mutate(byte[] input)
    {
        var bytes = input.ToList();
        var count = 1 + _random.Next(4);
        for (var i = 0; i < count && bytes.Count > 0; i++)
        {
            var at = _random.Next(bytes.Count);
            switch (_random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1:
                    bytes[at] = Interesting[_random.Next(Interesting.Length)];
                    break;
                case 2:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(16)));
                    break;
                case 3:
                    var length = Math.Min(bytes.Count - at, 1 + _random.Next(32));
                    bytes.InsertRange(_random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                case 4:
                    bytes.Insert(at, (byte)_random.Next(256));
                    break;
                default:
                    // Early bytes are headers (sizes, counts, flags): hit them more often.
                    bytes[_random.Next(Math.Min(bytes.Count, 16))] = (byte)_random.Next(256);
                    break;
            }
        }

        return [.. bytes];
    }
}
