// The msgpack WebSocket client: handshake, send/receive loops, reconnection and request bookkeeping.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;
using Atelico.Audio.Protocol;

namespace Atelico.Audio
{
    /// <summary>Connection settings of <see cref="AtelicoClient"/>.</summary>
    public sealed class AtelicoClientOptions
    {
        /// <summary>The sidecar's WebSocket, e.g. <c>ws://127.0.0.1:11434/v1/ws</c>.</summary>
        public Uri Endpoint = new Uri("ws://127.0.0.1:11434/v1/ws");

        /// <summary>The launch token sent in <c>hello</c> (null when the sidecar has none).</summary>
        public string Token;

        public string ClientName = "unity";
        public string ClientVersion = AtelicoClient.Version;

        /// <summary>How long a request may wait for a connection before failing with <c>connection.unavailable</c>.</summary>
        public TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

        /// <summary>Bound on the TCP connect plus hello/welcome exchange.</summary>
        public TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

        /// <summary>First and largest delay between reconnection attempts (doubling in between).</summary>
        public TimeSpan ReconnectMinDelay = TimeSpan.FromMilliseconds(200);
        public TimeSpan ReconnectMaxDelay = TimeSpan.FromSeconds(2);

        /// <summary>A sent request that hears nothing for this long fails with <c>request.timeout</c>
        /// (live transcription and face streams are exempt: silence is normal there).</summary>
        public TimeSpan RequestIdleTimeout = TimeSpan.FromSeconds(120);

        /// <summary>After <see cref="AtelicoRequest.Cancel"/>, how long to wait for the server's
        /// <c>cancelled</c> before ending the request locally.</summary>
        public TimeSpan CancelGrace = TimeSpan.FromSeconds(5);

        /// <summary>Largest frame accepted from the server.</summary>
        public int MaxFrameBytes = 64 * 1024 * 1024;
    }

    /// <summary>
    /// A client of the Atelico WebSocket protocol (docs/protocol.md) on <see cref="ClientWebSocket"/>.
    /// Responsibilities: connect and handshake (hello/welcome with the token), reconnect with backoff,
    /// send frames from one send loop, decode frames on one receive loop, route them by request id,
    /// and end every request exactly once: with the server's <c>done</c>/<c>error</c>/<c>cancelled</c>,
    /// or locally with <c>connection.lost</c> (socket dropped after it was sent, or an undecodable frame
    /// arrived: the client then closes the socket),
    /// <c>connection.unavailable</c> (never sent within <see cref="AtelicoClientOptions.ConnectTimeout"/>),
    /// <c>request.timeout</c>, or <c>client.closed</c> (disposed).
    /// Requests not yet sent when the socket drops are kept and sent after reconnecting.
    /// </summary>
    public sealed class AtelicoClient : IDisposable
    {
        public const string Version = "0.1.0";
        public const int ProtocolVersion = 1;

        private readonly AtelicoClientOptions _options;
        private readonly IMainThreadDispatcher _dispatcher;
        private readonly ConcurrentDictionary<string, AtelicoRequest> _inflight = new ConcurrentDictionary<string, AtelicoRequest>();
        private readonly LinkedList<Outgoing> _outbox = new LinkedList<Outgoing>();
        private readonly SemaphoreSlim _outboxSignal = new SemaphoreSlim(0);
        private readonly CancellationTokenSource _disposeCts = new CancellationTokenSource();
        private readonly object _startLock = new object();
        private Timer _watchdog;
        private Task _connectionLoop;
        private long _nextId;
        private long _generation;
        private volatile bool _connected;
        private volatile bool _disposed;
        private volatile AtelicoError _lastConnectError;
        private volatile MsgMap _welcome;
        private int _connectCount;

        /// <param name="options">Where to connect and the timeouts.</param>
        /// <param name="dispatcher">Where request callbacks run (the main-thread queue), or null to run
        /// them on the socket thread (tests, tools).</param>
        public AtelicoClient(AtelicoClientOptions options, IMainThreadDispatcher dispatcher)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            _options = options;
            _dispatcher = dispatcher;
        }

        /// <summary>True while a socket is open and past the handshake.</summary>
        public bool IsConnected { get { return _connected; } }

        /// <summary>The <c>data</c> of the last <c>welcome</c> (models, capabilities, limits), or null.</summary>
        public MsgMap Welcome { get { return _welcome; } }

        /// <summary>The last reason a connection attempt failed, or null.</summary>
        public AtelicoError LastConnectError { get { return _lastConnectError; } }

        /// <summary>How many handshakes have succeeded (1 after the first connect, 2 after a reconnect...).</summary>
        public int ConnectCount { get { return Volatile.Read(ref _connectCount); } }

        /// <summary>Requests not yet ended.</summary>
        public int InFlightCount { get { return _inflight.Count; } }

        public AtelicoClientOptions Options { get { return _options; } }

        /// <summary>Diagnostics (connection-level errors, callback exceptions); may run on any thread.</summary>
        public Action<string> Log { get; set; }

        /// <summary>Raised with the new state when the connection opens or drops (through the dispatcher).</summary>
        public event Action<bool> ConnectionChanged;

        /// <summary>Raised (through the dispatcher) when a connection attempt fails, with the reason: the
        /// server's code when it refused the handshake (e.g. <c>auth.invalid_token</c>),
        /// <c>connection.handshake_timeout</c>, or <c>connection.unavailable</c>.</summary>
        public event Action<AtelicoError> ConnectFailed;

        /// <summary>Start connecting in the background (requests also start it). Idempotent.</summary>
        public void Start()
        {
            lock (_startLock)
            {
                if (_disposed)
                {
                    throw new ObjectDisposedException("AtelicoClient");
                }
                if (_connectionLoop != null)
                {
                    return;
                }
                _watchdog = new Timer(OnWatchdog, null, 100, 100);
                _connectionLoop = Task.Run(() => ConnectionLoopAsync());
            }
        }

        /// <summary>
        /// Send a request. The returned handle is live immediately; the frame goes out as soon as a
        /// connection is up. Callbacks run through the dispatcher unless <paramref name="inline"/>.
        /// </summary>
        /// <param name="type">Request type, e.g. <c>tts.synthesize</c>.</param>
        /// <param name="data">Its fields (null values are dropped on the wire).</param>
        /// <param name="payload">Raw bytes (audio) or null.</param>
        /// <param name="callbacks">What to call; exactly one of OnDone/OnError runs.</param>
        /// <param name="longLived">Exempt from the idle timeout (live sessions).</param>
        /// <param name="inline">Run callbacks on the socket thread instead of the dispatcher.</param>
        /// <param name="idleTimeout">This request's idle timeout (default
        /// <see cref="AtelicoClientOptions.RequestIdleTimeout"/>).</param>
        public AtelicoRequest Send(string type, MsgMap data, byte[] payload, RequestCallbacks callbacks,
                                   bool longLived = false, bool inline = false, TimeSpan? idleTimeout = null)
        {
            if (string.IsNullOrEmpty(type))
            {
                throw new ArgumentException("type is required", "type");
            }
            string id = "u" + Interlocked.Increment(ref _nextId);
            byte[] frame = Envelope.Encode(new Message(type, data, id, payload));
            var request = new AtelicoRequest(this, id, type, frame, callbacks, inline ? null : _dispatcher, longLived);
            request.IdleTimeout = idleTimeout ?? _options.RequestIdleTimeout;
            if (_disposed)
            {
                request.Complete(null, new AtelicoError(ErrorCodes.ClientClosed, "the Atelico client is closed"));
                return request;
            }
            _inflight[id] = request;
            Enqueue(new Outgoing(request, frame, OutgoingKind.Start));
            Start();
            return request;
        }

        /// <summary>Send a Task-style request: completes with the <c>done</c> message or faults with
        /// <see cref="AtelicoException"/>; <paramref name="cancellationToken"/> cancels it on the server.</summary>
        public Task<Message> SendAsync(string type, MsgMap data, byte[] payload,
                                       CancellationToken cancellationToken = default(CancellationToken),
                                       Action<Message> onMessage = null)
        {
            var tcs = new TaskCompletionSource<Message>();
            var callbacks = new RequestCallbacks
            {
                OnMessage = onMessage,
                OnDone = message => tcs.TrySetResult(message),
                OnError = error =>
                {
                    if (error.IsCancelled && cancellationToken.IsCancellationRequested)
                    {
                        tcs.TrySetCanceled();
                    }
                    else
                    {
                        tcs.TrySetException(new AtelicoException(error));
                    }
                },
            };
            var request = Send(type, data, payload, callbacks, false, true);
            if (cancellationToken.CanBeCanceled)
            {
                var registration = cancellationToken.Register(request.Cancel);
                tcs.Task.ContinueWith(_ => registration.Dispose(), TaskContinuationOptions.ExecuteSynchronously);
            }
            return tcs.Task;
        }

        /// <summary>Send another frame for an open request (live audio, stop). False when it already ended.</summary>
        public bool SendFollowUp(AtelicoRequest request, string type, MsgMap data, byte[] payload)
        {
            if (request == null || request.IsCompleted)
            {
                return false;
            }
            byte[] frame = Envelope.Encode(new Message(type, data, request.Id, payload));
            Enqueue(new Outgoing(request, frame, OutgoingKind.FollowUp));
            return true;
        }

        /// <summary>Cancel <paramref name="request"/>: ended locally when never sent, else a <c>cancel</c>
        /// frame goes out and the server's <c>cancelled</c> ends it (or, after
        /// <see cref="AtelicoClientOptions.CancelGrace"/>, the client does).</summary>
        public void Cancel(AtelicoRequest request)
        {
            Cancel(request, null);
        }

        /// <summary>Cancel with data riding on the <c>cancel</c> frame, e.g. <c>{played_samples}</c>
        /// for a barge-in into a speech stream (its <c>cancelled</c> then reports what was heard,
        /// in the error's <see cref="AtelicoError.Details"/>; see <see cref="Heard"/>).</summary>
        public void Cancel(AtelicoRequest request, MsgMap data)
        {
            if (request == null)
            {
                return;
            }
            lock (request.Gate)
            {
                if (request.IsCompleted || request.CancelRequestedUtc.HasValue)
                {
                    return;
                }
                if (!request.Sent)
                {
                    Finish(request, null, new AtelicoError(ErrorCodes.Cancelled, "cancelled before it was sent"));
                    return;
                }
                request.CancelRequestedUtc = DateTime.UtcNow;
            }
            byte[] frame = Envelope.Encode(new Message("cancel", data ?? new MsgMap(), request.Id));
            Enqueue(new Outgoing(request, frame, OutgoingKind.FollowUp));
        }

        /// <summary>Cancel the in-flight request with this id (no-op when unknown or ended).</summary>
        public void Cancel(string requestId)
        {
            AtelicoRequest request;
            if (requestId != null && _inflight.TryGetValue(requestId, out request))
            {
                Cancel(request);
            }
        }

        /// <summary>Close the socket and end every open request with <c>client.closed</c>.</summary>
        public void Dispose()
        {
            lock (_startLock)
            {
                if (_disposed)
                {
                    return;
                }
                _disposed = true;
            }
            // End the requests first: cancelling the loops drops the socket, which must not end them
            // with connection.lost.
            foreach (var request in _inflight.Values)
            {
                Finish(request, null, new AtelicoError(ErrorCodes.ClientClosed, "the Atelico client was closed"));
            }
            _disposeCts.Cancel();
            if (_watchdog != null)
            {
                _watchdog.Dispose();
            }
            var loop = _connectionLoop;
            if (loop != null)
            {
                try
                {
                    loop.Wait(TimeSpan.FromSeconds(2));
                }
                catch (AggregateException)
                {
                    // The loop's own failure was already reported through Log.
                }
            }
        }

        internal void ReportCallbackFailure(Exception exc)
        {
            WriteLog("a request callback threw: " + exc);
        }

        private void WriteLog(string text)
        {
            var log = Log;
            if (log != null)
            {
                try
                {
                    log(text);
                }
                catch (Exception)
                {
                    // Logging must never break the socket loops.
                }
            }
        }

        private void Finish(AtelicoRequest request, Message done, AtelicoError error)
        {
            if (request.Complete(done, error))
            {
                AtelicoRequest ignored;
                _inflight.TryRemove(request.Id, out ignored);
            }
        }

        private void Enqueue(Outgoing item)
        {
            lock (_outbox)
            {
                _outbox.AddLast(item);
            }
            _outboxSignal.Release();
        }

        private Outgoing TakeOutgoing()
        {
            lock (_outbox)
            {
                if (_outbox.Count == 0)
                {
                    return null;
                }
                var item = _outbox.First.Value;
                _outbox.RemoveFirst();
                return item;
            }
        }

        private void RaiseConnectionChanged(bool connected)
        {
            var handler = ConnectionChanged;
            if (handler != null)
            {
                Raise(() => handler(connected));
            }
        }

        private void RaiseConnectFailed(AtelicoError error)
        {
            _lastConnectError = error;
            var handler = ConnectFailed;
            if (handler != null)
            {
                Raise(() => handler(error));
            }
        }

        private void Raise(Action call)
        {
            if (_dispatcher != null)
            {
                _dispatcher.Post(call);
                return;
            }
            try
            {
                call();
            }
            catch (Exception exc)
            {
                ReportCallbackFailure(exc);
            }
        }

        private async Task ConnectionLoopAsync()
        {
            TimeSpan delay = _options.ReconnectMinDelay;
            CancellationToken disposed = _disposeCts.Token;
            while (!disposed.IsCancellationRequested)
            {
                var socket = new ClientWebSocket();
                socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
                long generation = Interlocked.Increment(ref _generation);
                bool handshakeDone = false;
                string lostReason = "the connection to the Atelico sidecar was lost";
                using (var connectionCts = CancellationTokenSource.CreateLinkedTokenSource(disposed))
                {
                    try
                    {
                        await HandshakeAsync(socket, disposed).ConfigureAwait(false);
                        handshakeDone = true;
                        _lastConnectError = null;
                        delay = _options.ReconnectMinDelay;
                        Interlocked.Increment(ref _connectCount);
                        _connected = true;
                        RaiseConnectionChanged(true);
                        Task sendLoop = SendLoopAsync(socket, generation, connectionCts.Token);
                        Task receiveLoop = ReceiveLoopAsync(socket, connectionCts.Token);
                        Task first = await Task.WhenAny(sendLoop, receiveLoop).ConfigureAwait(false);
                        if (first.IsFaulted && first.Exception != null)
                        {
                            lostReason += ": " + first.Exception.GetBaseException().Message;
                        }
                        else if (socket.CloseStatus.HasValue)
                        {
                            lostReason += string.Format(" (closed {0} {1})", (int)socket.CloseStatus.Value, socket.CloseStatusDescription);
                        }
                        connectionCts.Cancel();
                        socket.Abort();
                        try
                        {
                            await Task.WhenAll(sendLoop, receiveLoop).ConfigureAwait(false);
                        }
                        catch (Exception)
                        {
                            // Expected: the loops end by cancellation or by the broken socket.
                        }
                    }
                    catch (AtelicoException exc)
                    {
                        // The server refused the handshake (bad token, protocol version): fail what waits.
                        RaiseConnectFailed(exc.Error);
                        FailUnsent(exc.Error);
                    }
                    catch (Exception exc)
                    {
                        if (exc is TimeoutException)
                        {
                            RaiseConnectFailed(new AtelicoError(ErrorCodes.HandshakeTimeout, exc.Message));
                        }
                        else if (!disposed.IsCancellationRequested)
                        {
                            RaiseConnectFailed(new AtelicoError(ErrorCodes.ConnectionUnavailable,
                                "cannot connect to the Atelico sidecar at " + _options.Endpoint + ": " + exc.GetBaseException().Message));
                        }
                    }
                    finally
                    {
                        _connected = false;
                        socket.Abort();
                        socket.Dispose();
                    }
                }
                if (handshakeDone)
                {
                    FailSent(generation, new AtelicoError(ErrorCodes.ConnectionLost, lostReason));
                    RaiseConnectionChanged(false);
                }
                if (disposed.IsCancellationRequested)
                {
                    break;
                }
                try
                {
                    await Task.Delay(delay, disposed).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            }
        }

        private async Task HandshakeAsync(ClientWebSocket socket, CancellationToken disposed)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(disposed))
            {
                timeout.CancelAfter(_options.HandshakeTimeout);
                try
                {
                    await socket.ConnectAsync(_options.Endpoint, timeout.Token).ConfigureAwait(false);
                    var hello = new MsgMap();
                    hello.Set("protocol", ProtocolVersion);
                    hello.Set("client", _options.ClientName);
                    hello.Set("client_version", _options.ClientVersion);
                    hello.SetIfNotNull("token", _options.Token);
                    byte[] frame = Envelope.Encode(new Message("hello", hello));
                    await socket.SendAsync(new ArraySegment<byte>(frame), WebSocketMessageType.Binary, true, timeout.Token).ConfigureAwait(false);
                    var buffer = new MemoryStream();
                    Message reply = await ReceiveMessageAsync(socket, buffer, timeout.Token).ConfigureAwait(false);
                    if (reply == null)
                    {
                        throw new IOException("the sidecar closed the socket during the handshake");
                    }
                    if (reply.Type == "error")
                    {
                        throw new AtelicoException(ErrorFromData(reply.Data, "the sidecar refused the handshake"));
                    }
                    if (reply.Type != "welcome")
                    {
                        throw new IOException("expected welcome, got " + reply.Type);
                    }
                    _welcome = reply.Data;
                }
                catch (OperationCanceledException)
                {
                    if (disposed.IsCancellationRequested)
                    {
                        throw;
                    }
                    throw new TimeoutException("no welcome within " + _options.HandshakeTimeout.TotalSeconds + " s");
                }
            }
        }

        private async Task SendLoopAsync(ClientWebSocket socket, long generation, CancellationToken token)
        {
            while (!token.IsCancellationRequested)
            {
                Outgoing item;
                while ((item = TakeOutgoing()) != null)
                {
                    var request = item.Request;
                    lock (request.Gate)
                    {
                        if (item.Kind == OutgoingKind.Start)
                        {
                            if (request.IsCompleted)
                            {
                                continue;
                            }
                            request.Sent = true;
                            request.Generation = generation;
                            request.LastActivityUtc = DateTime.UtcNow;
                        }
                        else if (!request.Sent || request.Generation != generation
                                 || (request.IsCompleted && item.Kind != OutgoingKind.Control))
                        {
                            continue;
                        }
                    }
                    await socket.SendAsync(new ArraySegment<byte>(item.Frame), WebSocketMessageType.Binary, true, token).ConfigureAwait(false);
                }
                await _outboxSignal.WaitAsync(token).ConfigureAwait(false);
            }
        }

        private async Task ReceiveLoopAsync(ClientWebSocket socket, CancellationToken token)
        {
            var buffer = new MemoryStream();
            while (!token.IsCancellationRequested)
            {
                Message message;
                try
                {
                    message = await ReceiveMessageAsync(socket, buffer, token).ConfigureAwait(false);
                }
                catch (ProtocolException exc)
                {
                    // A frame we cannot decode may have been anyone's terminal: close the connection so
                    // every request in flight ends (connection.lost) instead of waiting forever.
                    WriteLog("closing the connection after an undecodable frame from the sidecar: " + exc.Message);
                    await CloseQuietlyAsync(socket, WebSocketCloseStatus.InvalidPayloadData, exc.Code).ConfigureAwait(false);
                    throw;
                }
                if (message == null)
                {
                    return;
                }
                Route(message);
            }
        }

        private static async Task CloseQuietlyAsync(ClientWebSocket socket, WebSocketCloseStatus status, string reason)
        {
            try
            {
                using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
                {
                    await socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception)
            {
                // The socket is aborted right after anyway.
            }
        }

        /// <summary>Read one whole binary message; null when the server closed the socket.</summary>
        private async Task<Message> ReceiveMessageAsync(ClientWebSocket socket, MemoryStream buffer, CancellationToken token)
        {
            var chunk = new byte[64 * 1024];
            buffer.SetLength(0);
            while (true)
            {
                WebSocketReceiveResult result = await socket.ReceiveAsync(new ArraySegment<byte>(chunk), token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }
                if (buffer.Length + result.Count > _options.MaxFrameBytes)
                {
                    throw new IOException("a frame from the sidecar exceeds " + _options.MaxFrameBytes + " bytes");
                }
                buffer.Write(chunk, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    throw new ProtocolException("protocol.text_frame", "the sidecar sent a text frame");
                }
                return Envelope.Decode(buffer.GetBuffer(), (int)buffer.Length, _options.MaxFrameBytes);
            }
        }

        private void Route(Message message)
        {
            if (message.Id == null)
            {
                if (message.Type == "error")
                {
                    WriteLog("connection-level error from the sidecar: " + ErrorFromData(message.Data, ""));
                }
                return;
            }
            AtelicoRequest request;
            if (!_inflight.TryGetValue(message.Id, out request))
            {
                return; // A late message for a request that already ended.
            }
            switch (message.Type)
            {
                case "done":
                    Finish(request, message, null);
                    break;
                case "error":
                    Finish(request, null, ErrorFromData(message.Data, "the request failed"));
                    break;
                case "cancelled":
                    Finish(request, null, new AtelicoError(ErrorCodes.Cancelled, "the request was cancelled",
                        message.Data != null && message.Data.Count > 0 ? message.Data : null));
                    break;
                default:
                    request.Deliver(message);
                    break;
            }
        }

        internal static AtelicoError ErrorFromData(MsgMap data, string fallbackMessage)
        {
            return new AtelicoError(data.GetString("code", "internal"), data.GetString("message", fallbackMessage), data.GetMap("details"));
        }

        private void FailSent(long generation, AtelicoError error)
        {
            foreach (var request in _inflight.Values)
            {
                bool fail;
                lock (request.Gate)
                {
                    fail = request.Sent && request.Generation == generation;
                }
                if (fail)
                {
                    Finish(request, null, error);
                }
            }
        }

        private void FailUnsent(AtelicoError error)
        {
            foreach (var request in _inflight.Values)
            {
                bool fail;
                lock (request.Gate)
                {
                    fail = !request.Sent;
                }
                if (fail)
                {
                    Finish(request, null, error);
                }
            }
        }

        private void OnWatchdog(object state)
        {
            if (_disposed)
            {
                return;
            }
            DateTime now = DateTime.UtcNow;
            foreach (var request in _inflight.Values)
            {
                AtelicoError error = null;
                bool sendCancel = false;
                lock (request.Gate)
                {
                    if (request.IsCompleted)
                    {
                        continue;
                    }
                    if (!request.Sent)
                    {
                        if (!_connected && now - request.CreatedUtc > _options.ConnectTimeout)
                        {
                            var last = _lastConnectError;
                            error = new AtelicoError(ErrorCodes.ConnectionUnavailable,
                                "no connection to the Atelico sidecar within " + _options.ConnectTimeout.TotalSeconds + " s"
                                + (last != null ? " (" + last.Message + ")" : ""));
                        }
                    }
                    else if (request.CancelRequestedUtc.HasValue)
                    {
                        if (now - request.CancelRequestedUtc.Value > _options.CancelGrace)
                        {
                            error = new AtelicoError(ErrorCodes.Cancelled, "cancelled (the sidecar did not confirm in time)");
                        }
                    }
                    else if (!request.LongLived && now - request.LastActivityUtc > request.IdleTimeout)
                    {
                        error = new AtelicoError(ErrorCodes.Timeout,
                            "no reply from the Atelico sidecar for " + request.IdleTimeout.TotalSeconds + " s");
                        sendCancel = true;
                    }
                }
                if (error != null)
                {
                    if (sendCancel)
                    {
                        Enqueue(new Outgoing(request, Envelope.Encode(new Message("cancel", new MsgMap(), request.Id)), OutgoingKind.Control));
                    }
                    Finish(request, null, error);
                }
            }
        }

        private enum OutgoingKind
        {
            Start,
            FollowUp,
            Control,
        }

        private sealed class Outgoing
        {
            public Outgoing(AtelicoRequest request, byte[] frame, OutgoingKind kind)
            {
                Request = request;
                Frame = frame;
                Kind = kind;
            }

            public AtelicoRequest Request { get; private set; }
            public byte[] Frame { get; private set; }
            public OutgoingKind Kind { get; private set; }
        }
    }
}
