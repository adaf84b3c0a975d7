// A compact JSON reader/writer for the reference JSON API (no reflection, order-preserving).
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Atelico.Audio.Protocol;

namespace Atelico.Audio
{
    /// <summary>
    /// Parses JSON into <see cref="MsgMap"/> (objects, key order kept), List&lt;object&gt; (arrays),
    /// string, long (integers without fraction/exponent), double (other numbers), bool and null,
    /// and writes those types (plus byte[] as base64 strings and float/int arrays) back out.
    /// Unity's JsonUtility cannot read free-form objects, hence this class.
    /// </summary>
    public static class AtelicoJson
    {
        /// <summary>Parse one JSON value.</summary>
        /// <exception cref="AtelicoException"><c>request.invalid</c> for malformed JSON.</exception>
        public static object Parse(string json)
        {
            if (json == null)
            {
                throw new AtelicoException(ErrorCodes.RequestInvalid, "JSON text is null");
            }
            var parser = new Parser(json);
            parser.SkipWhitespace();
            object value = parser.ReadValue(0);
            parser.SkipWhitespace();
            if (!parser.AtEnd)
            {
                throw parser.Error("unexpected text after the JSON value");
            }
            return value;
        }

        /// <summary>Parse a JSON object.</summary>
        /// <exception cref="AtelicoException"><c>request.invalid</c> when the text is not a JSON object.</exception>
        public static MsgMap ParseObject(string json)
        {
            var map = Parse(json) as MsgMap;
            if (map == null)
            {
                throw new AtelicoException(ErrorCodes.RequestInvalid, "expected a JSON object");
            }
            return map;
        }

        /// <summary>Write <paramref name="value"/> as compact JSON.</summary>
        public static string Serialize(object value)
        {
            var builder = new StringBuilder();
            Write(builder, value);
            return builder.ToString();
        }

        private static void Write(StringBuilder sb, object value)
        {
            if (value == null)
            {
                sb.Append("null");
            }
            else if (value is string)
            {
                WriteString(sb, (string)value);
            }
            else if (value is bool)
            {
                sb.Append((bool)value ? "true" : "false");
            }
            else if (value is double || value is float)
            {
                double d = Convert.ToDouble(value);
                if (double.IsNaN(d) || double.IsInfinity(d))
                {
                    sb.Append("null");
                }
                else
                {
                    string text = d.ToString("R", CultureInfo.InvariantCulture);
                    if (text.IndexOf('.') < 0 && text.IndexOf('E') < 0)
                    {
                        text += ".0";
                    }
                    sb.Append(text);
                }
            }
            else if (value is long || value is int || value is short || value is sbyte
                     || value is ulong || value is uint || value is ushort || value is byte)
            {
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            }
            else if (value is byte[])
            {
                WriteString(sb, Convert.ToBase64String((byte[])value));
            }
            else if (value is MsgMap)
            {
                sb.Append('{');
                bool first = true;
                foreach (var entry in (MsgMap)value)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }
                    first = false;
                    WriteString(sb, entry.Key);
                    sb.Append(':');
                    Write(sb, entry.Value);
                }
                sb.Append('}');
            }
            else if (value is IDictionary)
            {
                sb.Append('{');
                bool first = true;
                foreach (DictionaryEntry entry in (IDictionary)value)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }
                    first = false;
                    WriteString(sb, Convert.ToString(entry.Key, CultureInfo.InvariantCulture));
                    sb.Append(':');
                    Write(sb, entry.Value);
                }
                sb.Append('}');
            }
            else if (value is IEnumerable)
            {
                sb.Append('[');
                bool first = true;
                foreach (object item in (IEnumerable)value)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }
                    first = false;
                    Write(sb, item);
                }
                sb.Append(']');
            }
            else
            {
                throw new ArgumentException("cannot write a " + value.GetType().FullName + " as JSON");
            }
        }

        private static void WriteString(StringBuilder sb, string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c < 0x20)
                        {
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            sb.Append(c);
                        }
                        break;
                }
            }
            sb.Append('"');
        }

        private sealed class Parser
        {
            private const int MaxDepth = 128;
            private readonly string _text;
            private int _pos;

            public Parser(string text)
            {
                _text = text;
            }

            public bool AtEnd { get { return _pos >= _text.Length; } }

            public AtelicoException Error(string what)
            {
                return new AtelicoException(ErrorCodes.RequestInvalid, "invalid JSON at character " + _pos + ": " + what);
            }

            public void SkipWhitespace()
            {
                while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t' || _text[_pos] == '\n' || _text[_pos] == '\r'))
                {
                    _pos++;
                }
            }

            public object ReadValue(int depth)
            {
                if (depth > MaxDepth)
                {
                    throw Error("nesting too deep");
                }
                if (AtEnd)
                {
                    throw Error("unexpected end of text");
                }
                char c = _text[_pos];
                if (c == '{')
                {
                    return ReadObject(depth);
                }
                if (c == '[')
                {
                    return ReadArray(depth);
                }
                if (c == '"')
                {
                    return ReadString();
                }
                if (c == '-' || (c >= '0' && c <= '9'))
                {
                    return ReadNumber();
                }
                if (Match("true"))
                {
                    return true;
                }
                if (Match("false"))
                {
                    return false;
                }
                if (Match("null"))
                {
                    return null;
                }
                throw Error("unexpected character '" + c + "'");
            }

            private bool Match(string word)
            {
                if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0)
                {
                    _pos += word.Length;
                    return true;
                }
                return false;
            }

            private MsgMap ReadObject(int depth)
            {
                _pos++;
                var map = new MsgMap();
                SkipWhitespace();
                if (!AtEnd && _text[_pos] == '}')
                {
                    _pos++;
                    return map;
                }
                while (true)
                {
                    SkipWhitespace();
                    if (AtEnd || _text[_pos] != '"')
                    {
                        throw Error("expected a string key");
                    }
                    string key = ReadString();
                    SkipWhitespace();
                    if (AtEnd || _text[_pos] != ':')
                    {
                        throw Error("expected ':'");
                    }
                    _pos++;
                    SkipWhitespace();
                    map.Set(key, ReadValue(depth + 1));
                    SkipWhitespace();
                    if (AtEnd)
                    {
                        throw Error("unterminated object");
                    }
                    if (_text[_pos] == ',')
                    {
                        _pos++;
                        continue;
                    }
                    if (_text[_pos] == '}')
                    {
                        _pos++;
                        return map;
                    }
                    throw Error("expected ',' or '}'");
                }
            }

            private List<object> ReadArray(int depth)
            {
                _pos++;
                var list = new List<object>();
                SkipWhitespace();
                if (!AtEnd && _text[_pos] == ']')
                {
                    _pos++;
                    return list;
                }
                while (true)
                {
                    SkipWhitespace();
                    list.Add(ReadValue(depth + 1));
                    SkipWhitespace();
                    if (AtEnd)
                    {
                        throw Error("unterminated array");
                    }
                    if (_text[_pos] == ',')
                    {
                        _pos++;
                        continue;
                    }
                    if (_text[_pos] == ']')
                    {
                        _pos++;
                        return list;
                    }
                    throw Error("expected ',' or ']'");
                }
            }

            private string ReadString()
            {
                _pos++;
                var sb = new StringBuilder();
                while (true)
                {
                    if (AtEnd)
                    {
                        throw Error("unterminated string");
                    }
                    char c = _text[_pos++];
                    if (c == '"')
                    {
                        return sb.ToString();
                    }
                    if (c != '\\')
                    {
                        if (c < 0x20)
                        {
                            throw Error("control character in string");
                        }
                        sb.Append(c);
                        continue;
                    }
                    if (AtEnd)
                    {
                        throw Error("unterminated escape");
                    }
                    char e = _text[_pos++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            {
                                if (_pos + 4 > _text.Length)
                                {
                                    throw Error("short \\u escape");
                                }
                                int code;
                                if (!int.TryParse(_text.Substring(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out code))
                                {
                                    throw Error("bad \\u escape");
                                }
                                sb.Append((char)code);
                                _pos += 4;
                                break;
                            }
                        default: throw Error("bad escape '\\" + e + "'");
                    }
                }
            }

            private object ReadNumber()
            {
                int start = _pos;
                bool isFloat = false;
                if (_text[_pos] == '-')
                {
                    _pos++;
                }
                while (!AtEnd)
                {
                    char c = _text[_pos];
                    if (c >= '0' && c <= '9')
                    {
                        _pos++;
                    }
                    else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
                    {
                        isFloat = true;
                        _pos++;
                    }
                    else
                    {
                        break;
                    }
                }
                string token = _text.Substring(start, _pos - start);
                if (!isFloat)
                {
                    long l;
                    if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l))
                    {
                        return l;
                    }
                    ulong u;
                    if (ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out u))
                    {
                        return u;
                    }
                }
                double d;
                if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out d))
                {
                    return d;
                }
                throw Error("bad number '" + token + "'");
            }
        }
    }
}
