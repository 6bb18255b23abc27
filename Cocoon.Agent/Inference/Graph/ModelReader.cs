using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Cocoon.Agent.Inference.Graph;

/// <summary>
/// Reads an ONNX model from a stream without holding its weights twice: the protobuf wire format is
/// walked by hand down to each initializer, whose raw bytes are read straight into the array that will
/// hold its values (a float32 weight's array is the tensor's own); every other field is left to the
/// generated parser. Parsing the whole file with it had kept every weight as a ByteString beside its
/// converted array until the garbage collector got round to them: a 100 MB model peaked at 2.3–2.5
/// times its size, depending on the machine's collector settings.
/// </summary>
internal static class ModelReader
{
    // Field numbers in onnx.proto: ModelProto.graph, GraphProto.initializer, TensorProto.raw_data.
    private const int GraphField = 7;
    private const int InitializerField = 5;
    private const int RawDataField = 9;

    private const int LengthDelimited = 2;

    /// <summary>The model, and for initializers whose raw bytes were read aside, those bytes (in a float[] when their length is a multiple of 4).</summary>
    public sealed record Result(ModelProto Model, IReadOnlyDictionary<TensorProto, Array> RawData);

    /// <exception cref="ModelException">The stream does not hold a well-formed protobuf message.</exception>
    public static Result Read(Stream stream)
    {
        var wire = new Wire(stream);
        var raw = new Dictionary<TensorProto, Array>(ReferenceEqualityComparer.Instance);
        GraphProto? graph = null;

        // A file's own length bounds every length it declares: a corrupt one cannot ask for gigabytes.
        var end = stream.CanSeek ? stream.Length - stream.Position : long.MaxValue;
        var model = Message(wire, end, ModelProto.Parser, (field, length) =>
        {
            if (field != GraphField)
            {
                return false;
            }

            // A message field given twice merges, as protobuf's parser would.
            var read = Graph(wire, wire.Position + length, raw);
            if (graph is null)
            {
                graph = read;
            }
            else
            {
                graph.MergeFrom(read);
            }

            return true;
        });
        model.Graph = graph;
        return new Result(model, raw);
    }

    private static GraphProto Graph(Wire wire, long end, Dictionary<TensorProto, Array> raw)
    {
        var initializers = new List<TensorProto>();
        var graph = Message(wire, end, GraphProto.Parser, (field, length) =>
        {
            if (field != InitializerField)
            {
                return false;
            }

            Array? data = null;
            var tensor = Message(wire, wire.Position + length, TensorProto.Parser, (inner, size) =>
            {
                if (inner != RawDataField)
                {
                    return false;
                }

                // A float32 weight's bytes land in its own array; other types convert from it later.
                if (size > Tensor.MaxElements * sizeof(long))
                {
                    throw new ModelException($"An initializer holds {size:N0} bytes, more than a tensor may ({Tensor.MaxElements:N0} elements).");
                }

                data = size % sizeof(float) == 0 ? new float[size / sizeof(float)] : new byte[size];
                wire.ReadExactly(data is float[] floats ? MemoryMarshal.AsBytes(floats.AsSpan()) : ((byte[])data).AsSpan());
                return true;
            });
            if (data is not null)
            {
                raw[tensor] = data;
            }

            initializers.Add(tensor);
            return true;
        });
        graph.Initializer.AddRange(initializers);
        return graph;
    }

    /// <summary>
    /// A message of <paramref name="parser"/>'s type ending at <paramref name="end"/>: length-delimited
    /// fields that <paramref name="take"/> consumes (given their number and length) are its business,
    /// every other field is copied as it is and parsed at the end.
    /// </summary>
    private static T Message<T>(Wire wire, long end, MessageParser<T> parser, Func<int, long, bool> take)
        where T : IMessage<T>
    {
        using var rest = new MemoryStream();
        while (wire.Position < end && wire.TryReadVarint(out var read))
        {
            if (read > uint.MaxValue || read >> 3 == 0)
            {
                throw Invalid("a field numbered 0 or past 2^29");
            }

            var tag = (uint)read;
            var (field, type) = ((int)(tag >> 3), (int)(tag & 7));
            if (type == LengthDelimited)
            {
                var declared = wire.ReadVarint();
                if (wire.Position > end || declared > (ulong)(end - wire.Position))
                {
                    throw Invalid("a field longer than the message holding it");
                }

                var length = (long)declared;
                if (take(field, length))
                {
                    continue;
                }

                var payload = wire.ReadBytes(length);
                WriteVarint(rest, tag);
                WriteVarint(rest, (ulong)payload.Length);
                rest.Write(payload);
                continue;
            }

            WriteVarint(rest, tag);
            switch (type)
            {
                case 0:
                    WriteVarint(rest, wire.ReadVarint());
                    break;
                case 1:
                    rest.Write(wire.ReadBytes(8));
                    break;
                case 5:
                    rest.Write(wire.ReadBytes(4));
                    break;
                default:
                    throw Invalid($"wire type {type}");
            }
        }

        if (end != long.MaxValue && wire.Position != end)
        {
            throw Invalid("a message that ends inside a field");
        }

        try
        {
            return parser.ParseFrom(rest.GetBuffer().AsSpan(0, (int)rest.Length));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw Invalid(ex.Message);
        }
    }

    private static void WriteVarint(MemoryStream target, ulong value)
    {
        for (; value >= 0x80; value >>= 7)
        {
            target.WriteByte((byte)(value | 0x80));
        }

        target.WriteByte((byte)value);
    }

    private static ModelException Invalid(string what) => new($"The model is not a valid ONNX file ({what}).");

    /// <summary>The stream read as protobuf's wire format: varints and runs of bytes, counting the position.</summary>
    private sealed class Wire(Stream stream)
    {
        /// <summary>Most bytes one field other than an initializer's data may hold (a node, a graph input's description).</summary>
        private const int MaxFieldBytes = 1 << 30;

        public long Position { get; private set; }

        /// <summary>The next varint, or false at the end of the stream.</summary>
        public bool TryReadVarint(out ulong value)
        {
            var first = stream.ReadByte();
            if (first < 0)
            {
                value = 0;
                return false;
            }

            Position++;
            value = (ulong)first & 0x7F;
            for (var shift = 7; (first & 0x80) != 0; shift += 7)
            {
                if (shift > 63)
                {
                    throw Invalid("a varint longer than ten bytes");
                }

                first = stream.ReadByte();
                if (first < 0)
                {
                    throw Invalid("the file ends inside a varint");
                }

                Position++;
                value |= ((ulong)first & 0x7F) << shift;
            }

            return true;
        }

        public ulong ReadVarint() => TryReadVarint(out var value) ? value : throw Invalid("the file ends inside a field");

        public byte[] ReadBytes(long length)
        {
            if (length is < 0 or > MaxFieldBytes)
            {
                throw Invalid($"a field of {length:N0} bytes");
            }

            var bytes = new byte[length];
            ReadExactly(bytes);
            return bytes;
        }

        public void ReadExactly(Span<byte> target)
        {
            try
            {
                stream.ReadExactly(target);
            }
            catch (EndOfStreamException)
            {
                throw Invalid("the file ends inside a field");
            }

            Position += target.Length;
        }
    }
}
