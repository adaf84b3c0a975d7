// The protocol envelope {type, id, data, payload}: canonical encoding and strict validation.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Text;

namespace Atelico.Audio.Protocol
{
    /// <summary>One protocol message. <see cref="Payload"/> carries raw bytes (PCM, WAV, face weights).</summary>
    public sealed class Message
    {
        public Message(string type, MsgMap data = null, string id = null, byte[] payload = null)
        {
            Type = type;
            Data = data ?? new MsgMap();
            Id = id;
            Payload = payload;
        }

        /// <summary>Message type such as <c>tts.chunk</c>.</summary>
        public string Type { get; private set; }

        /// <summary>Request id, or null for connection-level messages.</summary>
        public string Id { get; private set; }

        /// <summary>The message's fields (never null).</summary>
        public MsgMap Data { get; private set; }

        /// <summary>Raw bytes, or null.</summary>
        public byte[] Payload { get; private set; }
    }

    /// <summary>Raised when a frame breaks the envelope rules; <see cref="Code"/> is the protocol error code.</summary>
    public sealed class ProtocolException : Exception
    {
        public ProtocolException(string code, string message) : base(message)
        {
            Code = code;
        }

        public string Code { get; private set; }
    }

    /// <summary>Encoder and validating decoder of protocol frames (docs/protocol.md, "Envelope").</summary>
    public static class Envelope
    {
        public const int MaxIdBytes = 64;
        public const int MaxTypeChars = 64;
        public const int DefaultMaxFrameBytes = 8 * 1024 * 1024;

        /// <summary>Canonical bytes: keys type, id, data, payload; a null id/payload is omitted and
        /// null values inside <c>data</c> maps are dropped (list items are kept).</summary>
        public static byte[] Encode(Message message)
        {
            if (message == null)
            {
                throw new ArgumentNullException("message");
            }
            var envelope = new MsgMap();
            envelope.Set("type", message.Type);
            if (message.Id != null)
            {
                envelope.Set("id", message.Id);
            }
            envelope.Set("data", DropNulls(message.Data));
            if (message.Payload != null)
            {
                envelope.Set("payload", message.Payload);
            }
            return MsgPack.Encode(envelope);
        }

        /// <summary>Parse and validate one frame.</summary>
        /// <exception cref="ProtocolException"><c>protocol.frame_too_large</c> or <c>protocol.malformed</c>.</exception>
        public static Message Decode(byte[] frame, int maxFrameBytes = DefaultMaxFrameBytes)
        {
            if (frame == null)
            {
                throw new ArgumentNullException("frame");
            }
            return Decode(frame, frame.Length, maxFrameBytes);
        }

        /// <summary>Parse the first <paramref name="length"/> bytes of <paramref name="frame"/>.</summary>
        public static Message Decode(byte[] frame, int length, int maxFrameBytes)
        {
            if (length > maxFrameBytes)
            {
                throw new ProtocolException("protocol.frame_too_large",
                    "frame of " + length + " bytes exceeds the limit of " + maxFrameBytes);
            }
            object value;
            try
            {
                value = MsgPack.Decode(frame, 0, length);
            }
            catch (MsgPackException exc)
            {
                throw new ProtocolException(ErrorCodes.ProtocolMalformed, "frame is not valid msgpack: " + exc.Message);
            }
            var envelope = value as MsgMap;
            if (envelope == null)
            {
                throw new ProtocolException(ErrorCodes.ProtocolMalformed, "frame must be a msgpack map");
            }
            var type = envelope["type"] as string;
            if (string.IsNullOrEmpty(type) || type.Length > MaxTypeChars)
            {
                throw new ProtocolException(ErrorCodes.ProtocolMalformed, "envelope needs a non-empty str 'type'");
            }
            object rawId = envelope["id"];
            string id = null;
            if (rawId != null)
            {
                id = rawId as string;
                if (string.IsNullOrEmpty(id) || Encoding.UTF8.GetByteCount(id) > MaxIdBytes)
                {
                    throw new ProtocolException(ErrorCodes.ProtocolMalformed,
                        "'id' must be a non-empty str of at most " + MaxIdBytes + " bytes");
                }
            }
            object rawData;
            MsgMap data;
            if (envelope.TryGetValue("data", out rawData))
            {
                data = rawData as MsgMap;
                if (data == null)
                {
                    throw new ProtocolException(ErrorCodes.ProtocolMalformed, "'data' must be a map");
                }
            }
            else
            {
                data = new MsgMap();
            }
            object rawPayload = envelope["payload"];
            byte[] payload = null;
            if (rawPayload != null)
            {
                payload = rawPayload as byte[];
                if (payload == null)
                {
                    throw new ProtocolException(ErrorCodes.ProtocolMalformed, "'payload' must be msgpack bin");
                }
            }
            return new Message(type, data, id, payload);
        }

        private static object DropNulls(object value)
        {
            var map = value as MsgMap;
            if (map != null)
            {
                var copy = new MsgMap();
                foreach (var entry in map)
                {
                    if (entry.Value != null)
                    {
                        copy.Set(entry.Key, DropNulls(entry.Value));
                    }
                }
                return copy;
            }
            var list = value as List<object>;
            if (list != null)
            {
                var copy = new List<object>(list.Count);
                foreach (object item in list)
                {
                    copy.Add(DropNulls(item));
                }
                return copy;
            }
            return value;
        }
    }
}
