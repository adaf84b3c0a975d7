// Errors with stable machine-readable codes, shared by the client, the API and the launcher.
using System;

namespace Atelico.Audio
{
    /// <summary>Error codes raised on the client side; the server's codes are listed in docs/protocol.md.</summary>
    public static class ErrorCodes
    {
        /// <summary>The socket dropped (or the sidecar died) while the request was in flight.</summary>
        public const string ConnectionLost = "connection.lost";
        /// <summary>No connection could be made within the connect timeout; the request was never sent.</summary>
        public const string ConnectionUnavailable = "connection.unavailable";
        /// <summary>The socket opened but no <c>welcome</c> came within the handshake timeout.</summary>
        public const string HandshakeTimeout = "connection.handshake_timeout";
        /// <summary>The client was disposed (play mode ended, engine destroyed) before the request ended.</summary>
        public const string ClientClosed = "client.closed";
        /// <summary>The request was cancelled (by the caller or because the server confirmed a cancel).</summary>
        public const string Cancelled = "cancelled";
        /// <summary>Nothing arrived for the request within the idle timeout.</summary>
        public const string Timeout = "request.timeout";
        /// <summary>A frame could not be decoded.</summary>
        public const string ProtocolMalformed = "protocol.malformed";
        /// <summary>The request JSON or a typed field is invalid (client-side validation).</summary>
        public const string RequestInvalid = "request.invalid";
        /// <summary>Audio could not be parsed (e.g. not a PCM WAV file).</summary>
        public const string AudioInvalid = "audio.invalid";
        /// <summary>The sidecar process could not be started or exited early.</summary>
        public const string SidecarStartFailed = "sidecar.start_failed";
        /// <summary>The sidecar started but /health/ready did not answer 200 in time.</summary>
        public const string SidecarNotReady = "sidecar.not_ready";
        /// <summary>A blocking call was made on the main thread, where it would freeze the game.</summary>
        public const string MainThreadBlocking = "client.main_thread_blocking";
    }

    /// <summary>An error as the server (or the client) reports it: a stable code, a message and optional details.</summary>
    public sealed class AtelicoError
    {
        public AtelicoError(string code, string message, Protocol.MsgMap details = null)
        {
            Code = code ?? "internal";
            Message = message ?? "";
            Details = details;
        }

        /// <summary>Stable, machine-readable code such as <c>voice.unknown</c> or <c>connection.lost</c>.</summary>
        public string Code { get; private set; }

        /// <summary>Human-readable explanation.</summary>
        public string Message { get; private set; }

        /// <summary>Optional structured details (e.g. <c>known</c> voices); may be null.</summary>
        public Protocol.MsgMap Details { get; private set; }

        /// <summary>True when this error is the terminal outcome of a cancel.</summary>
        public bool IsCancelled { get { return Code == ErrorCodes.Cancelled; } }

        /// <summary>The HTTP error body shape: <c>{"error": {"code", "message", "details"?}}</c>.</summary>
        public string ToJson()
        {
            var inner = new Protocol.MsgMap();
            inner.Set("code", Code);
            inner.Set("message", Message);
            if (Details != null && Details.Count > 0)
            {
                inner.Set("details", Details);
            }
            var outer = new Protocol.MsgMap();
            outer.Set("error", inner);
            return AtelicoJson.Serialize(outer);
        }

        public override string ToString()
        {
            return Code + ": " + Message;
        }
    }

    /// <summary>Exception carrying an <see cref="AtelicoError"/>; thrown by the Task and blocking APIs.</summary>
    public class AtelicoException : Exception
    {
        public AtelicoException(AtelicoError error) : base(error.Code + ": " + error.Message)
        {
            Error = error;
        }

        public AtelicoException(string code, string message) : this(new AtelicoError(code, message))
        {
        }

        public AtelicoError Error { get; private set; }

        public string Code { get { return Error.Code; } }
    }
}
