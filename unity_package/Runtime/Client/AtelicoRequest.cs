// One in-flight request: its id, callbacks and the bookkeeping that guarantees one completion.
using System;
using Atelico.Audio.Protocol;

namespace Atelico.Audio
{
    /// <summary>Callbacks of one request. Exactly one of <see cref="OnDone"/> / <see cref="OnError"/> runs, once.</summary>
    public sealed class RequestCallbacks
    {
        /// <summary>Every non-terminal message for the request (<c>tts.chunk</c>, <c>stt.partial</c>, ...), in order.</summary>
        public Action<Message> OnMessage;

        /// <summary>The request's <c>done</c> message.</summary>
        public Action<Message> OnDone;

        /// <summary>The request failed, was cancelled (code <c>cancelled</c>) or its connection was lost.</summary>
        public Action<AtelicoError> OnError;
    }

    /// <summary>
    /// Handle of a request sent through <see cref="AtelicoClient"/>. Callbacks run on the main thread
    /// (through the client's dispatcher) unless the request was created for a Task API, where they
    /// complete a TaskCompletionSource directly. After the terminal callback no other callback runs.
    /// </summary>
    public sealed class AtelicoRequest
    {
        internal readonly object Gate = new object();
        private readonly AtelicoClient _client;
        private volatile bool _completed;

        internal AtelicoRequest(AtelicoClient client, string id, string type, byte[] startFrame,
                                RequestCallbacks callbacks, IMainThreadDispatcher dispatcher, bool longLived)
        {
            _client = client;
            Id = id;
            Type = type;
            StartFrame = startFrame;
            Callbacks = callbacks ?? new RequestCallbacks();
            Dispatcher = dispatcher;
            LongLived = longLived;
            CreatedUtc = DateTime.UtcNow;
            LastActivityUtc = CreatedUtc;
        }

        /// <summary>The request id on the wire.</summary>
        public string Id { get; private set; }

        /// <summary>The request's message type, e.g. <c>tts.synthesize</c>.</summary>
        public string Type { get; private set; }

        /// <summary>True once the terminal outcome is decided (its callback may still be queued).</summary>
        public bool IsCompleted { get { return _completed; } }

        /// <summary>The terminal error, or null when the request succeeded or is still running.</summary>
        public AtelicoError Error { get; private set; }

        internal byte[] StartFrame { get; private set; }
        internal RequestCallbacks Callbacks { get; private set; }
        internal IMainThreadDispatcher Dispatcher { get; private set; }
        internal bool LongLived { get; private set; }
        internal TimeSpan IdleTimeout { get; set; }
        internal DateTime CreatedUtc { get; private set; }
        internal DateTime LastActivityUtc { get; set; }
        internal DateTime? CancelRequestedUtc { get; set; }
        internal bool Sent { get; set; }
        internal long Generation { get; set; }

        /// <summary>Ask the server to cancel. The request then ends with an error whose code is
        /// <c>cancelled</c> (or with <c>done</c> if it finished first). Idempotent; safe from any thread.</summary>
        public void Cancel()
        {
            _client.Cancel(this);
        }

        /// <summary>Queue (or run) a non-terminal message; ignored once completed. Call under no lock.</summary>
        internal void Deliver(Message message)
        {
            lock (Gate)
            {
                if (_completed)
                {
                    return;
                }
                LastActivityUtc = DateTime.UtcNow;
                var callback = Callbacks.OnMessage;
                if (callback != null)
                {
                    Invoke(() => callback(message));
                }
            }
        }

        /// <summary>Decide the terminal outcome once. Returns false when it was already decided.</summary>
        internal bool Complete(Message done, AtelicoError error)
        {
            lock (Gate)
            {
                if (_completed)
                {
                    return false;
                }
                _completed = true;
                Error = error;
                StartFrame = null;
                if (error != null)
                {
                    var onError = Callbacks.OnError;
                    if (onError != null)
                    {
                        Invoke(() => onError(error));
                    }
                }
                else
                {
                    var onDone = Callbacks.OnDone;
                    if (onDone != null)
                    {
                        Invoke(() => onDone(done));
                    }
                }
                return true;
            }
        }

        private void Invoke(Action action)
        {
            if (Dispatcher != null)
            {
                Dispatcher.Post(action);
                return;
            }
            try
            {
                action();
            }
            catch (Exception exc)
            {
                _client.ReportCallbackFailure(exc);
            }
        }
    }
}
