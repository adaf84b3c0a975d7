// The audio subsystem: the reference JSON API plus typed, callback and Task versions.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Atelico.Audio.Protocol;

namespace Atelico.Audio
{
    /// <summary>
    /// <c>AtelicoEngine.Instance.Audio</c>: speech synthesis (blocking and streamed), speak (speech with
    /// face), transcription (files and live), and audio-to-face.
    /// <para>Threading: callback overloads return a handle immediately and run their callbacks on the
    /// main thread (queued by the socket thread, run by <see cref="AtelicoEngine"/> in Update); chunks
    /// arrive in order and exactly one completion callback (onComplete or onError) runs per request,
    /// including when the sidecar dies (<c>connection.lost</c>) or the request is cancelled
    /// (<c>cancelled</c>). Task versions complete on the socket thread; <c>await</c> from a
    /// MonoBehaviour resumes on the main thread through Unity's synchronization context. The
    /// reference's blocking names (<see cref="Synthesize(string)"/>, <see cref="Transcribe(string)"/>,
    /// <see cref="AudioToFace(string)"/>) wait at most <see cref="BlockingTimeout"/> and refuse to run on
    /// the main thread (error <c>client.main_thread_blocking</c>): call them from a worker thread.</para>
    /// </summary>
    public sealed class AtelicoAudio
    {
        private readonly AtelicoClient _client;
        private readonly IMainThreadDispatcher _dispatcher;

        public AtelicoAudio(AtelicoClient client, IMainThreadDispatcher dispatcher)
        {
            if (client == null)
            {
                throw new ArgumentNullException("client");
            }
            _client = client;
            _dispatcher = dispatcher;
            BlockingTimeout = TimeSpan.FromSeconds(60);
        }

        /// <summary>Upper bound of the blocking calls.</summary>
        public TimeSpan BlockingTimeout { get; set; }

        public AtelicoClient Client { get { return _client; } }

        // ---- Reference JSON API -------------------------------------------------------------------

        /// <summary>Blocking synthesis (off the main thread only). Request
        /// <c>{"model", "input", "voice", "speed"?, "language"?}</c>; returns
        /// <c>{"audio_b64", "duration_seconds", "format": "wav", "sample_rate"}</c>.</summary>
        /// <exception cref="AtelicoException">The server's error, a timeout, or <c>client.main_thread_blocking</c>.</exception>
        public string Synthesize(string json)
        {
            return Block(SynthesizeAsync(json), "Synthesize");
        }

        /// <summary>Synthesis with callbacks on the main thread: onComplete gets the response JSON,
        /// onError the error JSON <c>{"error": {"code", "message", "details"?}}</c>.</summary>
        public AtelicoRequest Synthesize(string json, Action<string> onComplete, Action<string> onError)
        {
            SpeechRequest request;
            if (!TryParse(json, onError, out request))
            {
                return null;
            }
            return Synthesize(request, result => Call(onComplete, result.ToJson()), error => Call(onError, error.ToJson()));
        }

        public Task<string> SynthesizeAsync(string json, CancellationToken cancellationToken = default(CancellationToken))
        {
            SpeechRequest request;
            try
            {
                request = SpeechRequest.FromJson(AtelicoJson.ParseObject(json));
            }
            catch (AtelicoException exc)
            {
                return Failed<string>(exc);
            }
            return Then(SynthesizeAsync(request, cancellationToken), result => result.ToJson());
        }

        /// <summary>Streamed synthesis. onChunk gets <c>{"sequence", "audio" (base64 WAV),
        /// "duration_seconds", "text"}</c> per clause/sentence on the main thread, then exactly one of
        /// onComplete / onError (error JSON; a cancel gives code <c>cancelled</c>).</summary>
        public AtelicoRequest SynthesizeStream(string json, Action<string> onChunk, Action onComplete, Action<string> onError)
        {
            SpeechRequest request;
            if (!TryParse(json, onError, out request))
            {
                return null;
            }
            return SynthesizeStream(request, chunk => Call(onChunk, chunk.ToJson()), result =>
            {
                if (onComplete != null)
                {
                    onComplete();
                }
            }, error => Call(onError, error.ToJson()));
        }

        /// <summary>Blocking transcription (off the main thread only). Request
        /// <c>{"model", "audio_b64", "language"?, "prompt"?}</c>; returns <c>{"text", "language", "duration"}</c>.</summary>
        public string Transcribe(string json)
        {
            return Block(TranscribeAsync(json), "Transcribe");
        }

        public AtelicoRequest Transcribe(string json, Action<string> onComplete, Action<string> onError)
        {
            TranscriptionRequest request;
            try
            {
                request = TranscriptionFromJson(AtelicoJson.ParseObject(json));
            }
            catch (AtelicoException exc)
            {
                Fail(onError, exc.Error);
                return null;
            }
            return Transcribe(request, result => Call(onComplete, result.ToJson()), error => Call(onError, error.ToJson()));
        }

        public Task<string> TranscribeAsync(string json, CancellationToken cancellationToken = default(CancellationToken))
        {
            TranscriptionRequest request;
            try
            {
                request = TranscriptionFromJson(AtelicoJson.ParseObject(json));
            }
            catch (AtelicoException exc)
            {
                return Failed<string>(exc);
            }
            return Then(TranscribeAsync(request, cancellationToken), result => result.ToJson());
        }

        /// <summary>Blocking audio-to-face (off the main thread only). Request
        /// <c>{"audio_b64" (WAV), "character"?, "text"?}</c>; returns
        /// <c>{"fps", "frame_count", "names", "frames": [[52 weights], ...]}</c>.</summary>
        public string AudioToFace(string json)
        {
            return Block(AudioToFaceAsync(json), "AudioToFace");
        }

        public Task<string> AudioToFaceAsync(string json, CancellationToken cancellationToken = default(CancellationToken))
        {
            MsgMap map;
            byte[] file;
            try
            {
                map = AtelicoJson.ParseObject(json);
                file = DecodeBase64(map.GetString("audio_b64"), "audio_b64");
            }
            catch (AtelicoException exc)
            {
                return Failed<string>(exc);
            }
            var data = new MsgMap();
            data.Set("character", map.GetString("character", "claire"));
            data.SetIfNotNull("text", map.GetString("text"));
            data.Set("encoding", TranscriptionRequest.GuessEncoding(file));
            return Then(FaceAsync(data, file, cancellationToken), FaceToJson);
        }

        // ---- Typed API ----------------------------------------------------------------------------

        /// <summary>Blocking-style synthesis with main-thread callbacks; the result holds the whole audio.</summary>
        public AtelicoRequest Synthesize(SpeechRequest request, Action<SpeechResult> onComplete, Action<AtelicoError> onError)
        {
            return Dispatched("tts.synthesize", request.ToData(false), null, null,
                done => Call(onComplete, SpeechResult.FromDone(done)), onError, false);
        }

        public Task<SpeechResult> SynthesizeAsync(SpeechRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Then(_client.SendAsync("tts.synthesize", request.ToData(false), null, cancellationToken), SpeechResult.FromDone);
        }

        /// <summary>Streamed synthesis: decoded chunks on the main thread, then one completion.</summary>
        public AtelicoRequest SynthesizeStream(SpeechRequest request, Action<SpeechChunk> onChunk, Action<SpeechResult> onComplete, Action<AtelicoError> onError)
        {
            return Dispatched("tts.synthesize", request.ToData(true), null, ChunkHandler(onChunk),
                done => Call(onComplete, SpeechResult.FromDone(done)), onError, false);
        }

        /// <summary>Streamed speech with face frames: every chunk carries <see cref="SpeechChunk.Face"/>
        /// for exactly the audio it holds. <paramref name="character"/>: claire, james or mark.</summary>
        public AtelicoRequest Speak(SpeechRequest request, string character, Action<SpeechChunk> onChunk, Action<SpeechResult> onComplete, Action<AtelicoError> onError)
        {
            MsgMap data = request.ToData(true);
            data.Remove("stream");
            data.Set("character", string.IsNullOrEmpty(character) ? "claire" : character);
            return Dispatched("speak", data, null, ChunkHandler(onChunk),
                done => Call(onComplete, SpeechResult.FromDone(done)), onError, false);
        }

        /// <summary>Streamed speech to interrupt: like <see cref="Speak"/> (or streamed synthesis when
        /// <paramref name="character"/> is null), as a <see cref="SpeechStream"/> that takes the text in
        /// pieces when <see cref="SpeechRequest.InputStream"/> is set and can be stopped with
        /// <see cref="SpeechStream.BargeIn"/>, which says what the player heard.</summary>
        public SpeechStream SpeakStream(SpeechRequest request, string character, Action<SpeechChunk> onChunk,
                                        Action<SpeechResult> onComplete, Action<AtelicoError> onError)
        {
            var stream = new SpeechStream(_client);
            Action<SpeechChunk> track = chunk =>
            {
                stream.Track(chunk);
                Call(onChunk, chunk);
            };
            Action<AtelicoError> ended = error =>
            {
                stream.Ended(error);
                Call(onError, error);
            };
            stream.Request = character == null
                ? SynthesizeStream(request, track, onComplete, ended)
                : Speak(request, character, track, onComplete, ended);
            return stream;
        }

        public AtelicoRequest Transcribe(TranscriptionRequest request, Action<TranscriptionResult> onComplete, Action<AtelicoError> onError)
        {
            byte[] payload;
            MsgMap data = request.ToData(out payload);
            return Dispatched("stt.transcribe", data, payload, null, done => Call(onComplete, TranscriptionResult.FromDone(done)), onError, false);
        }

        public Task<TranscriptionResult> TranscribeAsync(TranscriptionRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] payload;
            MsgMap data;
            try
            {
                data = request.ToData(out payload);
            }
            catch (AtelicoException exc)
            {
                return Failed<TranscriptionResult>(exc);
            }
            return Then(_client.SendAsync("stt.transcribe", data, payload, cancellationToken), TranscriptionResult.FromDone);
        }

        /// <summary>Face animation (ARKit 52 @ 30 fps) for mono s16le PCM.</summary>
        public Task<FaceFrames> AudioToFaceAsync(byte[] pcmS16le, int sampleRateHz, string character = "claire", string text = null,
                                                 CancellationToken cancellationToken = default(CancellationToken))
        {
            return FaceAsync(FaceData(sampleRateHz, character, text), pcmS16le, cancellationToken);
        }

        /// <summary>Face animation for mono float samples, with main-thread callbacks.</summary>
        public AtelicoRequest AudioToFace(float[] samples, int sampleRateHz, string character, string text,
                                          Action<FaceFrames> onComplete, Action<AtelicoError> onError)
        {
            byte[] pcm = Wav.FloatToPcm16(samples, 0, samples.Length);
            return Dispatched("face.run", FaceData(sampleRateHz, character, text), pcm, null, done => Call(onComplete, FaceFromDone(done)), onError, false);
        }

        /// <summary>Open a live transcription session; feed it with <see cref="LiveTranscription.SendAudio"/>.
        /// Partials and finals arrive on the main thread; onComplete after <see cref="LiveTranscription.Stop"/>.</summary>
        /// <param name="onWarning">Optional: <c>stt.warning</c> (code <c>stt.behind</c> when the sidecar fell behind real
        /// time: once when it starts skipping audio, and once when it has caught up, its message saying how many seconds
        /// were skipped).</param>
        /// <param name="onSpeechStarted">Optional: <c>stt.speech.started</c>, sent with the frame that holds the onset, before
        /// any partial of the utterance (duck or stop a speaking NPC here).</param>
        /// <param name="onSpeechStopped">Optional: <c>stt.speech.stopped</c>, right before the utterance's final.</param>
        public LiveTranscription StartLiveTranscription(LiveTranscriptionOptions options, Action<LiveTranscript> onPartial,
                                                        Action<LiveTranscript> onFinal, Action<int> onComplete, Action<AtelicoError> onError,
                                                        Action<AtelicoError> onWarning = null, Action<SpeechActivity> onSpeechStarted = null,
                                                        Action<SpeechActivity> onSpeechStopped = null)
        {
            options = options ?? new LiveTranscriptionOptions();
            Action<Message> onMessage = message =>
            {
                if (message.Type == "stt.partial")
                {
                    Call(onPartial, LiveTranscript.FromData(message.Data));
                }
                else if (message.Type == "stt.final")
                {
                    Call(onFinal, LiveTranscript.FromData(message.Data));
                }
                else if (message.Type == "stt.speech.started")
                {
                    Call(onSpeechStarted, SpeechActivity.FromData(message.Data));
                }
                else if (message.Type == "stt.speech.stopped")
                {
                    Call(onSpeechStopped, SpeechActivity.FromData(message.Data));
                }
                else if (message.Type == "stt.warning")
                {
                    Call(onWarning, AtelicoClient.ErrorFromData(message.Data, "live transcription warning"));
                }
            };
            var request = Dispatched("stt.live.start", options.ToData(), null, onMessage,
                done => Call(onComplete, (int)done.Data.GetLong("segments")), onError, true);
            return new LiveTranscription(_client, request);
        }

        /// <summary>Cancel a request (no-op when it already ended); its completion reports <c>cancelled</c>.</summary>
        public void Cancel(AtelicoRequest request)
        {
            _client.Cancel(request);
        }

        public void Cancel(string requestId)
        {
            _client.Cancel(requestId);
        }

        // ---- Helpers ------------------------------------------------------------------------------

        private AtelicoRequest Dispatched(string type, MsgMap data, byte[] payload, Action<Message> onMessage,
                                          Action<Message> onDone, Action<AtelicoError> onError, bool longLived)
        {
            var callbacks = new RequestCallbacks
            {
                OnMessage = onMessage,
                OnDone = done =>
                {
                    try
                    {
                        onDone(done);
                    }
                    catch (AtelicoException exc)
                    {
                        Call(onError, exc.Error); // e.g. an undecodable result payload
                    }
                },
                OnError = error => Call(onError, error),
            };
            return _client.Send(type, data, payload, callbacks, longLived, _dispatcher == null);
        }

        private static Action<Message> ChunkHandler(Action<SpeechChunk> onChunk)
        {
            return message =>
            {
                if (message.Type == "tts.chunk")
                {
                    Call(onChunk, SpeechChunk.FromMessage(message));
                }
            };
        }

        private Task<FaceFrames> FaceAsync(MsgMap data, byte[] payload, CancellationToken cancellationToken)
        {
            return Then(_client.SendAsync("face.run", data, payload, cancellationToken), FaceFromDone);
        }

        private static MsgMap FaceData(int sampleRateHz, string character, string text)
        {
            var data = new MsgMap();
            data.Set("character", string.IsNullOrEmpty(character) ? "claire" : character);
            data.SetIfNotNull("text", text);
            data.Set("sample_rate_hz", sampleRateHz);
            data.Set("sample_format", "s16le");
            data.Set("channels", 1);
            return data;
        }

        private static FaceFrames FaceFromDone(Message done)
        {
            var d = done.Data;
            string[] names = null;
            var list = d.GetList("names");
            if (list != null)
            {
                names = list.ConvertAll(item => item as string).ToArray();
            }
            return FaceFrames.FromBytes(done.Payload ?? new byte[0], (int)d.GetLong("fps", ArKit.DefaultFps), 0,
                (int)d.GetLong("frame_count"), (int)d.GetLong("channels", ArKit.ChannelCount), names);
        }

        private static string FaceToJson(FaceFrames face)
        {
            var frames = new List<object>(face.FrameCount);
            for (int f = 0; f < face.FrameCount; f++)
            {
                var row = new double[face.Channels];
                for (int c = 0; c < face.Channels; c++)
                {
                    row[c] = Math.Round(face.Get(f, c), 5);
                }
                frames.Add(row);
            }
            var map = new MsgMap();
            map.Set("fps", face.Fps);
            map.Set("frame_count", face.FrameCount);
            map.Set("names", face.Names);
            map.Set("frames", frames);
            return AtelicoJson.Serialize(map);
        }

        private static TranscriptionRequest TranscriptionFromJson(MsgMap map)
        {
            return new TranscriptionRequest
            {
                Model = map.GetString("model", "whisper"),
                AudioFile = DecodeBase64(map.GetString("audio_b64"), "audio_b64"),
                Language = map.GetString("language"),
                Prompt = map.GetString("prompt"),
            };
        }

        private static byte[] DecodeBase64(string text, string field)
        {
            if (string.IsNullOrEmpty(text))
            {
                throw new AtelicoException(new AtelicoError("request.missing_input", "'" + field + "' is required"));
            }
            try
            {
                return Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                throw new AtelicoException(ErrorCodes.RequestInvalid, "'" + field + "' is not valid base64");
            }
        }

        private bool TryParse(string json, Action<string> onError, out SpeechRequest request)
        {
            try
            {
                request = SpeechRequest.FromJson(AtelicoJson.ParseObject(json));
                return true;
            }
            catch (AtelicoException exc)
            {
                Fail(onError, exc.Error);
                request = null;
                return false;
            }
        }

        /// <summary>Report a client-side validation error through the same path as server errors.</summary>
        private void Fail(Action<string> onError, AtelicoError error)
        {
            if (onError == null)
            {
                return;
            }
            if (_dispatcher != null)
            {
                _dispatcher.Post(() => onError(error.ToJson()));
            }
            else
            {
                onError(error.ToJson());
            }
        }

        private T Block<T>(Task<T> task, string name)
        {
            if (_dispatcher != null && _dispatcher.IsMainThread)
            {
                throw new AtelicoException(ErrorCodes.MainThreadBlocking, name + " blocks until the sidecar answers and would freeze the game; "
                    + "on the main thread use " + name + "Async (await) or the callback overload, or call it from a worker thread (Task.Run)");
            }
            try
            {
                if (!task.Wait(BlockingTimeout))
                {
                    throw new AtelicoException(ErrorCodes.Timeout, name + " got no answer within " + BlockingTimeout.TotalSeconds + " s");
                }
                return task.Result;
            }
            catch (AggregateException exc)
            {
                var inner = exc.GetBaseException() as AtelicoException;
                if (inner != null)
                {
                    throw new AtelicoException(inner.Error);
                }
                throw;
            }
        }

        private static void Call<T>(Action<T> callback, T value)
        {
            if (callback != null)
            {
                callback(value);
            }
        }

        private static Task<T> Failed<T>(AtelicoException exc)
        {
            var tcs = new TaskCompletionSource<T>();
            tcs.SetException(exc);
            return tcs.Task;
        }

        /// <summary>Map a Task's result, keeping its failure (AtelicoException) or cancellation.</summary>
        internal static Task<TOut> Then<TIn, TOut>(Task<TIn> task, Func<TIn, TOut> map)
        {
            var tcs = new TaskCompletionSource<TOut>();
            task.ContinueWith(t =>
            {
                if (t.IsCanceled)
                {
                    tcs.TrySetCanceled();
                }
                else if (t.IsFaulted)
                {
                    tcs.TrySetException(t.Exception.GetBaseException());
                }
                else
                {
                    try
                    {
                        tcs.TrySetResult(map(t.Result));
                    }
                    catch (Exception exc)
                    {
                        tcs.TrySetException(exc);
                    }
                }
            }, TaskContinuationOptions.ExecuteSynchronously);
            return tcs.Task;
        }
    }

    /// <summary>One streamed utterance (<see cref="AtelicoAudio.SpeakStream"/>): text written in pieces,
    /// and a barge-in that stops it and reports what the player heard. Main thread.</summary>
    public sealed class SpeechStream
    {
        private readonly AtelicoClient _client;
        private readonly List<WordTiming> _words = new List<WordTiming>();
        private long _receivedSamples;
        private int _sampleRateHz = 24000;
        private Action<Heard> _onHeard;
        private long _playedAtBargeIn;

        internal SpeechStream(AtelicoClient client)
        {
            _client = client;
        }

        public AtelicoRequest Request { get; internal set; }

        public bool IsCompleted { get { return Request.IsCompleted; } }

        /// <summary>Adds a piece of the text (e.g. a language model's token). False once it ended.</summary>
        public bool Write(string text)
        {
            var data = new MsgMap();
            data.Set("text", text ?? "");
            return _client.SendFollowUp(Request, "tts.text", data, null);
        }

        /// <summary>No more text: the rest is spoken, then the stream completes.</summary>
        public bool End()
        {
            return _client.SendFollowUp(Request, "tts.text.end", new MsgMap(), null);
        }

        /// <summary>Barge-in: stops the stream after <paramref name="playedSamples"/> of it were played
        /// (e.g. <see cref="StreamClock"/>'s position); <paramref name="onHeard"/> gets what the player
        /// heard, once: from the sidecar while it still speaks (the request then ends with
        /// <c>cancelled</c>), or by the same rule over the words received when it already completed.</summary>
        public void BargeIn(long playedSamples, Action<Heard> onHeard)
        {
            if (_onHeard != null)
            {
                return;
            }
            _onHeard = onHeard ?? (_ => { });
            _playedAtBargeIn = Math.Max(0, playedSamples);
            if (Request.IsCompleted)
            {
                Report(null);
                return;
            }
            var data = new MsgMap();
            data.Set("played_samples", _playedAtBargeIn);
            _client.Cancel(Request, data);
        }

        internal void Track(SpeechChunk chunk)
        {
            if (chunk.Words != null)
            {
                _words.AddRange(chunk.Words);
            }
            _sampleRateHz = chunk.SampleRateHz > 0 ? chunk.SampleRateHz : _sampleRateHz;
            _receivedSamples = chunk.OffsetSamples + (chunk.Samples != null ? chunk.Samples.Length : 0);
        }

        internal void Ended(AtelicoError error)
        {
            if (_onHeard != null && error != null && error.IsCancelled)
            {
                Report(Heard.FromData(error.Details));
            }
        }

        private void Report(Heard fromServer)
        {
            Action<Heard> onHeard = _onHeard;
            _onHeard = _ => { };
            onHeard(fromServer ?? Heard.Of(_words, _playedAtBargeIn, _receivedSamples, _sampleRateHz));
        }
    }

    /// <summary>An open live transcription session (<c>stt.live.*</c>).</summary>
    public sealed class LiveTranscription
    {
        private readonly AtelicoClient _client;

        internal LiveTranscription(AtelicoClient client, AtelicoRequest request)
        {
            _client = client;
            Request = request;
        }

        public AtelicoRequest Request { get; private set; }

        public bool IsCompleted { get { return Request.IsCompleted; } }

        /// <summary>Send mono samples (converted to s16le). False once the session has ended.</summary>
        public bool SendAudio(float[] samples, int offset, int count)
        {
            return SendPcm16(Wav.FloatToPcm16(samples, offset, count));
        }

        /// <summary>Send mono s16le PCM at the session's sample rate.</summary>
        public bool SendPcm16(byte[] pcm)
        {
            return _client.SendFollowUp(Request, "stt.live.audio", new MsgMap(), pcm);
        }

        /// <summary>Flush: the last utterance is finalized, then the session completes.</summary>
        public void Stop()
        {
            _client.SendFollowUp(Request, "stt.live.stop", new MsgMap(), null);
        }

        public void Cancel()
        {
            Request.Cancel();
        }
    }
}
