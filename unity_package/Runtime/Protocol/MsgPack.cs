// A small msgpack codec: canonical (smallest-form) encoder and a strict, bounded decoder.
using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Atelico.Audio.Protocol
{
    /// <summary>Raised for bytes that are not one complete, valid msgpack value.</summary>
    public sealed class MsgPackException : Exception
    {
        public MsgPackException(string message) : base(message)
        {
        }
    }

    /// <summary>
    /// Encodes and decodes msgpack values. Encoding follows docs/protocol.md: integers in their
    /// smallest form, every float as float64, str/bin/array/map with their smallest header, map
    /// keys in insertion order. Decoding accepts any valid msgpack (float32, bigger int forms) but
    /// rejects truncated input, trailing bytes, reserved bytes, ext types, non-string map keys,
    /// invalid UTF-8 and nesting deeper than <see cref="MaxDepth"/>.
    /// Decoded types: null, bool, long (ulong above long.MaxValue), double, string, byte[],
    /// <see cref="MsgMap"/>, List&lt;object&gt;.
    /// </summary>
    public static class MsgPack
    {
        /// <summary>Deepest nesting of arrays/maps the decoder accepts.</summary>
        public const int MaxDepth = 64;

        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        /// <summary>Serialize <paramref name="value"/> (see the class summary for supported types).</summary>
        public static byte[] Encode(object value)
        {
            using (var stream = new MemoryStream())
            {
                Write(stream, value, 0);
                return stream.ToArray();
            }
        }

        /// <summary>Parse exactly one msgpack value spanning the whole buffer.</summary>
        public static object Decode(byte[] buffer)
        {
            if (buffer == null)
            {
                throw new ArgumentNullException("buffer");
            }
            return Decode(buffer, 0, buffer.Length);
        }

        /// <summary>Parse exactly one msgpack value spanning <paramref name="count"/> bytes from <paramref name="offset"/>.</summary>
        public static object Decode(byte[] buffer, int offset, int count)
        {
            var reader = new Reader(buffer, offset, count);
            object value = reader.ReadValue(0);
            if (reader.Position != offset + count)
            {
                throw new MsgPackException("trailing bytes after the msgpack value");
            }
            return value;
        }

        private static void Write(Stream s, object value, int depth)
        {
            if (depth > MaxDepth)
            {
                throw new ArgumentException("value nests deeper than " + MaxDepth);
            }
            if (value == null)
            {
                s.WriteByte(0xc0);
                return;
            }
            if (value is bool)
            {
                s.WriteByte((bool)value ? (byte)0xc3 : (byte)0xc2);
                return;
            }
            if (value is string)
            {
                WriteString(s, (string)value);
                return;
            }
            if (value is byte[])
            {
                WriteBinary(s, (byte[])value);
                return;
            }
            if (value is long || value is int || value is short || value is sbyte)
            {
                WriteInt(s, Convert.ToInt64(value));
                return;
            }
            if (value is ulong || value is uint || value is ushort || value is byte)
            {
                WriteUInt(s, Convert.ToUInt64(value));
                return;
            }
            if (value is double || value is float)
            {
                s.WriteByte(0xcb);
                long bits = BitConverter.DoubleToInt64Bits(Convert.ToDouble(value));
                WriteBigEndian(s, (ulong)bits, 8);
                return;
            }
            var map = value as MsgMap;
            if (map != null)
            {
                WriteMapHeader(s, map.Count);
                foreach (var entry in map)
                {
                    WriteString(s, entry.Key);
                    Write(s, entry.Value, depth + 1);
                }
                return;
            }
            var dictionary = value as IDictionary;
            if (dictionary != null)
            {
                WriteMapHeader(s, dictionary.Count);
                foreach (DictionaryEntry entry in dictionary)
                {
                    var key = entry.Key as string;
                    if (key == null)
                    {
                        throw new ArgumentException("msgpack map keys must be strings");
                    }
                    WriteString(s, key);
                    Write(s, entry.Value, depth + 1);
                }
                return;
            }
            var list = value as IList;
            if (list != null)
            {
                WriteArrayHeader(s, list.Count);
                foreach (object item in list)
                {
                    Write(s, item, depth + 1);
                }
                return;
            }
            throw new ArgumentException("cannot encode a " + value.GetType().FullName + " as msgpack");
        }

        private static void WriteInt(Stream s, long v)
        {
            if (v >= 0)
            {
                WriteUInt(s, (ulong)v);
            }
            else if (v >= -32)
            {
                s.WriteByte((byte)(sbyte)v);
            }
            else if (v >= sbyte.MinValue)
            {
                s.WriteByte(0xd0);
                s.WriteByte((byte)(sbyte)v);
            }
            else if (v >= short.MinValue)
            {
                s.WriteByte(0xd1);
                WriteBigEndian(s, (ulong)v, 2);
            }
            else if (v >= int.MinValue)
            {
                s.WriteByte(0xd2);
                WriteBigEndian(s, (ulong)v, 4);
            }
            else
            {
                s.WriteByte(0xd3);
                WriteBigEndian(s, (ulong)v, 8);
            }
        }

        private static void WriteUInt(Stream s, ulong v)
        {
            if (v <= 0x7f)
            {
                s.WriteByte((byte)v);
            }
            else if (v <= byte.MaxValue)
            {
                s.WriteByte(0xcc);
                s.WriteByte((byte)v);
            }
            else if (v <= ushort.MaxValue)
            {
                s.WriteByte(0xcd);
                WriteBigEndian(s, v, 2);
            }
            else if (v <= uint.MaxValue)
            {
                s.WriteByte(0xce);
                WriteBigEndian(s, v, 4);
            }
            else
            {
                s.WriteByte(0xcf);
                WriteBigEndian(s, v, 8);
            }
        }

        private static void WriteString(Stream s, string value)
        {
            byte[] bytes = StrictUtf8.GetBytes(value);
            int n = bytes.Length;
            if (n <= 31)
            {
                s.WriteByte((byte)(0xa0 | n));
            }
            else if (n <= byte.MaxValue)
            {
                s.WriteByte(0xd9);
                s.WriteByte((byte)n);
            }
            else if (n <= ushort.MaxValue)
            {
                s.WriteByte(0xda);
                WriteBigEndian(s, (ulong)n, 2);
            }
            else
            {
                s.WriteByte(0xdb);
                WriteBigEndian(s, (ulong)n, 4);
            }
            s.Write(bytes, 0, n);
        }

        private static void WriteBinary(Stream s, byte[] bytes)
        {
            int n = bytes.Length;
            if (n <= byte.MaxValue)
            {
                s.WriteByte(0xc4);
                s.WriteByte((byte)n);
            }
            else if (n <= ushort.MaxValue)
            {
                s.WriteByte(0xc5);
                WriteBigEndian(s, (ulong)n, 2);
            }
            else
            {
                s.WriteByte(0xc6);
                WriteBigEndian(s, (ulong)n, 4);
            }
            s.Write(bytes, 0, n);
        }

        private static void WriteArrayHeader(Stream s, int n)
        {
            if (n <= 15)
            {
                s.WriteByte((byte)(0x90 | n));
            }
            else if (n <= ushort.MaxValue)
            {
                s.WriteByte(0xdc);
                WriteBigEndian(s, (ulong)n, 2);
            }
            else
            {
                s.WriteByte(0xdd);
                WriteBigEndian(s, (ulong)n, 4);
            }
        }

        private static void WriteMapHeader(Stream s, int n)
        {
            if (n <= 15)
            {
                s.WriteByte((byte)(0x80 | n));
            }
            else if (n <= ushort.MaxValue)
            {
                s.WriteByte(0xde);
                WriteBigEndian(s, (ulong)n, 2);
            }
            else
            {
                s.WriteByte(0xdf);
                WriteBigEndian(s, (ulong)n, 4);
            }
        }

        private static void WriteBigEndian(Stream s, ulong v, int byteCount)
        {
            for (int i = byteCount - 1; i >= 0; i--)
            {
                s.WriteByte((byte)(v >> (8 * i)));
            }
        }

        private sealed class Reader
        {
            private readonly byte[] _buffer;
            private readonly int _end;
            private int _position;

            public Reader(byte[] buffer, int offset, int count)
            {
                if (offset < 0 || count < 0 || offset + count > buffer.Length)
                {
                    throw new ArgumentOutOfRangeException("count");
                }
                _buffer = buffer;
                _position = offset;
                _end = offset + count;
            }

            public int Position { get { return _position; } }

            public object ReadValue(int depth)
            {
                if (depth > MaxDepth)
                {
                    throw new MsgPackException("msgpack nests deeper than " + MaxDepth);
                }
                byte b = ReadByte();
                if (b <= 0x7f)
                {
                    return (long)b;
                }
                if (b >= 0xe0)
                {
                    return (long)(sbyte)b;
                }
                if (b >= 0x80 && b <= 0x8f)
                {
                    return ReadMap(b & 0x0f, depth);
                }
                if (b >= 0x90 && b <= 0x9f)
                {
                    return ReadArray(b & 0x0f, depth);
                }
                if (b >= 0xa0 && b <= 0xbf)
                {
                    return ReadStr(b & 0x1f);
                }
                switch (b)
                {
                    case 0xc0: return null;
                    case 0xc2: return false;
                    case 0xc3: return true;
                    case 0xc4: return ReadBytes((int)ReadBigEndian(1));
                    case 0xc5: return ReadBytes((int)ReadBigEndian(2));
                    case 0xc6: return ReadBytes(CheckedLength(ReadBigEndian(4)));
                    case 0xca:
                        {
                            int bits = (int)ReadBigEndian(4);
                            return (double)BitConverter.ToSingle(BitConverter.GetBytes(bits), 0);
                        }
                    case 0xcb: return BitConverter.Int64BitsToDouble((long)ReadBigEndian(8));
                    case 0xcc: return (long)ReadBigEndian(1);
                    case 0xcd: return (long)ReadBigEndian(2);
                    case 0xce: return (long)ReadBigEndian(4);
                    case 0xcf:
                        {
                            ulong v = ReadBigEndian(8);
                            if (v <= long.MaxValue)
                            {
                                return (long)v;
                            }
                            return v;
                        }
                    case 0xd0: return (long)(sbyte)ReadBigEndian(1);
                    case 0xd1: return (long)(short)ReadBigEndian(2);
                    case 0xd2: return (long)(int)ReadBigEndian(4);
                    case 0xd3: return (long)ReadBigEndian(8);
                    case 0xd9: return ReadStr((int)ReadBigEndian(1));
                    case 0xda: return ReadStr((int)ReadBigEndian(2));
                    case 0xdb: return ReadStr(CheckedLength(ReadBigEndian(4)));
                    case 0xdc: return ReadArray((int)ReadBigEndian(2), depth);
                    case 0xdd: return ReadArray(CheckedLength(ReadBigEndian(4)), depth);
                    case 0xde: return ReadMap((int)ReadBigEndian(2), depth);
                    case 0xdf: return ReadMap(CheckedLength(ReadBigEndian(4)), depth);
                    case 0xc1: throw new MsgPackException("reserved byte 0xc1");
                    default: throw new MsgPackException(string.Format("unsupported msgpack type byte 0x{0:x2} (ext types are not used by the protocol)", b));
                }
            }

            private MsgMap ReadMap(int count, int depth)
            {
                // Every entry needs at least 2 bytes: refuse counts the buffer cannot hold before allocating.
                if (count > (_end - _position) / 2)
                {
                    throw new MsgPackException("map header claims more entries than the frame holds");
                }
                var map = new MsgMap();
                for (int i = 0; i < count; i++)
                {
                    var key = ReadValue(depth + 1) as string;
                    if (key == null)
                    {
                        throw new MsgPackException("map keys must be strings");
                    }
                    map.Set(key, ReadValue(depth + 1));
                }
                return map;
            }

            private List<object> ReadArray(int count, int depth)
            {
                if (count > _end - _position)
                {
                    throw new MsgPackException("array header claims more items than the frame holds");
                }
                var list = new List<object>(count);
                for (int i = 0; i < count; i++)
                {
                    list.Add(ReadValue(depth + 1));
                }
                return list;
            }

            private string ReadStr(int length)
            {
                Require(length);
                try
                {
                    string value = StrictUtf8.GetString(_buffer, _position, length);
                    _position += length;
                    return value;
                }
                catch (ArgumentException)
                {
                    throw new MsgPackException("str is not valid UTF-8");
                }
            }

            private byte[] ReadBytes(int length)
            {
                Require(length);
                var bytes = new byte[length];
                Buffer.BlockCopy(_buffer, _position, bytes, 0, length);
                _position += length;
                return bytes;
            }

            private byte ReadByte()
            {
                Require(1);
                return _buffer[_position++];
            }

            private ulong ReadBigEndian(int byteCount)
            {
                Require(byteCount);
                ulong v = 0;
                for (int i = 0; i < byteCount; i++)
                {
                    v = (v << 8) | _buffer[_position++];
                }
                return v;
            }

            private void Require(int byteCount)
            {
                if (byteCount < 0 || _end - _position < byteCount)
                {
                    throw new MsgPackException("truncated msgpack");
                }
            }

            private static int CheckedLength(ulong length)
            {
                if (length > int.MaxValue)
                {
                    throw new MsgPackException("length too large");
                }
                return (int)length;
            }
        }
    }
}
