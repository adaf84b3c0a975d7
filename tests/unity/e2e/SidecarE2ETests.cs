// End-to-end: the package's client, API and launcher against a real sidecar on 127.0.0.1.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Atelico.Audio;
using Atelico.Audio.Protocol;
using Atelico.Audio.Sidecar;
using NUnit.Framework;

namespace Atelico.Audio.E2E.Tests
{
    internal static class Harness
    {
        public static string Repo { get { return Environment.GetEnvironmentVariable("ATELICO_REPO") ?? Path.GetFullPath("../.."); } }
        public static string Python { get { return Environment.GetEnvironmentVariable("ATELICO_PYTHON") ?? Path.Combine(Repo, ".venv/bin/python"); } }
        public static string SpeechDir { get { return Environment.GetEnvironmentVariable("ATELICO_SPEECH_DIR") ?? Path.Combine(Repo, "tests/data/speech"); } }

        public static SidecarProcess Launch(string preload)
        {
            var sidecar = SidecarProcess.Start(new SidecarOptions
            {
                PythonPath = Python,
                WorkingDirectory = Repo,
                Preload = preload.Split(','),
                ReadyTimeout = TimeSpan.FromSeconds(150),
                ListenTimeout = TimeSpan.FromSeconds(60),
                Environment = new Dictionary<string, string> { { "ATELICO_OFFLINE", "1" } },
            });
            try
            {
                sidecar.WaitForReady();
            }
            catch
            {
                sidecar.Dispose();
                throw;
            }
            return sidecar;
        }

        public static void Pump(MainThreadQueue queue, Func<bool> until, double seconds)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (!until() && DateTime.UtcNow < deadline)
            {
                queue.Drain();
                Thread.Sleep(5);
            }
            queue.Drain();
            Assert.IsTrue(until(), "timed out after " + seconds + " s");
        }

        public static string TranscriptOf(string file)
        {
            foreach (object item in (List<object>)AtelicoJson.Parse(File.ReadAllText(Path.Combine(SpeechDir, "manifest.json"))))
            {
                var entry = (MsgMap)item;
                if (entry.GetString("file") == file)
                {
                    return entry.GetString("transcript");
                }
            }
            throw new ArgumentException(file);
        }

        /// <summary>Word error rate after lower-casing and dropping punctuation.</summary>
        public static double Wer(string reference, string hypothesis)
        {
            string[] r = Words(reference);
            string[] h = Words(hypothesis);
            var d = new int[r.Length + 1, h.Length + 1];
            for (int i = 0; i <= r.Length; i++)
            {
                d[i, 0] = i;
            }
            for (int j = 0; j <= h.Length; j++)
            {
                d[0, j] = j;
            }
            for (int i = 1; i <= r.Length; i++)
            {
                for (int j = 1; j <= h.Length; j++)
                {
                    int sub = d[i - 1, j - 1] + (r[i - 1] == h[j - 1] ? 0 : 1);
                    d[i, j] = Math.Min(sub, Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1));
                }
            }
            return (double)d[r.Length, h.Length] / Math.Max(1, r.Length);
        }

        private static string[] Words(string text)
        {
            string clean = Regex.Replace(text.ToLowerInvariant().Replace("mr.", "mister").Replace("10", "ten"), "[^a-z0-9' ]", " ");
            return clean.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        }
    }

    [TestFixture]
    public class SidecarE2ETests
    {
        private const string ThreeSentences = "The lighthouse keeper climbed the stairs. Waves crashed below. He lit the lamp for the ships.";
        private SidecarProcess _sidecar;
        private MainThreadQueue _queue;
        private AtelicoClient _client;
        private AtelicoAudio _audio;

        [TestFixtureSetUp]
        public void StartSidecar()
        {
            _sidecar = Harness.Launch("tts,whisper,face");
            _queue = new MainThreadQueue();
            _client = new AtelicoClient(new AtelicoClientOptions { Endpoint = _sidecar.WebSocketUri, Token = _sidecar.Token }, _queue);
            _audio = new AtelicoAudio(_client, _queue);
        }

        [TestFixtureTearDown]
        public void StopSidecar()
        {
            if (_client != null)
            {
                _client.Dispose();
            }
            if (_sidecar != null)
            {
                int pid = _sidecar.Pid;
                _sidecar.Dispose();
                Assert.IsFalse(SidecarProcess.IsAlive(pid), "the sidecar is gone after Dispose");
            }
        }

        [Test]
        public void StreamedJsonSynthesisDeliversDecodableChunksOnTheMainThreadThenOneCompletion()
        {
            var chunks = new List<string>();
            var threads = new HashSet<int>();
            int completions = 0;
            var errors = new List<string>();
            _audio.SynthesizeStream("{\"model\": \"in-memory::tts\", \"input\": \"" + ThreeSentences + "\", \"voice\": \"af_heart\"}",
                chunk =>
                {
                    chunks.Add(chunk);
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                },
                () =>
                {
                    completions++;
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                },
                errors.Add);
            Harness.Pump(_queue, () => completions + errors.Count > 0, 90);
            Assert.AreEqual(0, errors.Count, string.Join("\n", errors.ToArray()));
            Assert.AreEqual(1, completions);
            CollectionAssert.AreEqual(new[] { Thread.CurrentThread.ManagedThreadId }, threads.ToArray(), "every callback on the main thread");
            Assert.That(chunks.Count, Is.GreaterThanOrEqualTo(2), "one chunk per clause/sentence");
            var texts = new List<string>();
            for (int i = 0; i < chunks.Count; i++)
            {
                MsgMap chunk = AtelicoJson.ParseObject(chunks[i]);
                CollectionAssert.AreEqual(new[] { "sequence", "audio", "duration_seconds", "text" }, chunk.Keys.ToArray());
                Assert.AreEqual((long)i, chunk["sequence"]);
                WavData wav = Wav.Parse(Convert.FromBase64String(chunk.GetString("audio")));
                Assert.AreEqual(24000, wav.SampleRateHz);
                Assert.AreEqual(chunk.GetDouble("duration_seconds"), wav.DurationS, 0.002, "chunk " + i);
                Assert.That(wav.Samples.Max(s => Math.Abs(s)), Is.GreaterThan(0.05f), "chunk " + i + " is not silent");
                texts.Add(chunk.GetString("text"));
            }
            StringAssert.Contains("lighthouse", string.Join(" ", texts.ToArray()));
            StringAssert.Contains("ships", string.Join(" ", texts.ToArray()));
        }

        [Test]
        public void TypedStreamChunkDurationsAddUpToTheDoneDuration()
        {
            var chunks = new List<SpeechChunk>();
            SpeechResult result = null;
            AtelicoError error = null;
            _audio.SynthesizeStream(new SpeechRequest { Input = ThreeSentences, Voice = "af_heart" }, chunks.Add, r => result = r, e => error = e);
            Harness.Pump(_queue, () => result != null || error != null, 90);
            Assert.IsNull(error, error == null ? "" : error.ToString());
            Assert.AreEqual(chunks.Count, result.Chunks);
            double sum = chunks.Sum(c => c.DurationS);
            long samples = chunks.Sum(c => (long)c.Samples.Length);
            Assert.AreEqual(result.DurationS, sum, 0.02);
            Assert.AreEqual(result.DurationS * 24000, samples, 24000 * 0.02);
            long offset = 0;
            foreach (var chunk in chunks)
            {
                Assert.AreEqual(offset, chunk.OffsetSamples, "chunks are contiguous");
                offset += chunk.Samples.Length;
            }
            Assert.That(result.DurationS, Is.InRange(2.0, 15.0));
        }

        [Test]
        public void BlockingSynthesizeFromAWorkerThreadReturnsTheReferenceShape()
        {
            string json = Task.Run(() => _audio.Synthesize("{\"model\":\"in-memory::tts\",\"input\":\"Hello from Atelico.\",\"voice\":\"af_heart\"}")).Result;
            MsgMap response = AtelicoJson.ParseObject(json);
            CollectionAssert.AreEqual(new[] { "audio_b64", "duration_seconds", "format", "sample_rate" }, response.Keys.ToArray());
            Assert.AreEqual("wav", response["format"]);
            Assert.AreEqual(24000L, response["sample_rate"]);
            WavData wav = Wav.Parse(Convert.FromBase64String(response.GetString("audio_b64")));
            Assert.AreEqual(response.GetDouble("duration_seconds"), wav.DurationS, 0.002);
            Assert.That(wav.DurationS, Is.InRange(0.6, 4.0));
        }

        [Test]
        public void TranscribeJsonOfRecordedSpeechReturnsItsWords()
        {
            const string file = "sense_and_sensibility_01_austen_64kb-0880.wav";
            string wavB64 = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(Harness.SpeechDir, file)));
            string reply = null;
            string error = null;
            _audio.Transcribe("{\"model\":\"in-memory::whisper\",\"audio_b64\":\"" + wavB64 + "\"}", r => reply = r, e => error = e);
            Harness.Pump(_queue, () => reply != null || error != null, 90);
            Assert.IsNull(error, error);
            MsgMap response = AtelicoJson.ParseObject(reply);
            CollectionAssert.AreEqual(new[] { "text", "language", "duration" }, response.Keys.ToArray());
            Assert.AreEqual("en", response["language"]);
            Assert.AreEqual(2.99, response.GetDouble("duration"), 0.05);
            double wer = Harness.Wer(Harness.TranscriptOf(file), response.GetString("text"));
            Assert.That(wer, Is.LessThanOrEqualTo(0.25), "WER of '" + response.GetString("text") + "'");
        }

        [Test]
        public void TranscribeAsyncWithSamplesWorksToo()
        {
            WavData wav = Wav.Parse(File.ReadAllBytes(Path.Combine(Harness.SpeechDir, "goforward.wav")));
            TranscriptionResult result = _audio.TranscribeAsync(new TranscriptionRequest { Samples = wav.Samples, SampleRateHz = wav.SampleRateHz, Language = "en" }).Result;
            Assert.That(Harness.Wer(Harness.TranscriptOf("goforward.wav"), result.Text), Is.LessThanOrEqualTo(0.25), result.Text);
        }

        [Test]
        public void UnknownVoiceReachesOnErrorOnceWithItsCode()
        {
            var errors = new List<string>();
            int chunks = 0;
            int completions = 0;
            _audio.SynthesizeStream("{\"input\":\"Hello there.\",\"voice\":\"zz_nobody\"}", c => chunks++, () => completions++, errors.Add);
            Harness.Pump(_queue, () => errors.Count > 0, 30);
            Harness.Pump(_queue, () => true, 0.3);
            Assert.AreEqual(1, errors.Count);
            Assert.AreEqual(0, chunks + completions);
            MsgMap error = AtelicoJson.ParseObject(errors[0]).GetMap("error");
            Assert.AreEqual("voice.unknown", error["code"]);
            Assert.That(error.GetMap("details").GetList("known"), Has.Member("af_heart"));
        }

        [Test]
        public void CancelMidStreamEndsWithCancelledAndNothingAfter()
        {
            string text = string.Join(" ", Enumerable.Repeat(ThreeSentences, 6).ToArray());
            int chunks = 0;
            int completions = 0;
            var errors = new List<AtelicoError>();
            int callbacksAfterTerminal = 0;
            AtelicoRequest handle = null;
            handle = _audio.SynthesizeStream(new SpeechRequest { Input = text },
                chunk =>
                {
                    if (errors.Count > 0)
                    {
                        callbacksAfterTerminal++;
                    }
                    chunks++;
                    if (chunks == 1)
                    {
                        _audio.Cancel(handle);
                    }
                },
                r => completions++,
                errors.Add);
            Harness.Pump(_queue, () => errors.Count + completions > 0, 60);
            Harness.Pump(_queue, () => true, 0.5);
            Assert.AreEqual(0, completions);
            Assert.AreEqual(1, errors.Count);
            Assert.AreEqual(ErrorCodes.Cancelled, errors[0].Code, errors[0].ToString());
            Assert.AreEqual(0, callbacksAfterTerminal);
            Assert.That(chunks, Is.LessThan(18), "the stream stopped early");
        }

        [Test]
        public void AudioToFaceOfSpeechMovesTheJawAtThirtyFps()
        {
            WavData wav = Wav.Parse(File.ReadAllBytes(Path.Combine(Harness.SpeechDir, "goforward.wav")));
            byte[] pcm = Wav.FloatToPcm16(wav.Samples, 0, wav.Samples.Length);
            FaceFrames face = _audio.AudioToFaceAsync(pcm, wav.SampleRateHz, "claire", "go forward ten meters").Result;
            Assert.AreEqual(30, face.Fps);
            Assert.AreEqual(52, face.Channels);
            Assert.AreEqual(wav.DurationS * 30, face.FrameCount, 2.0);
            CollectionAssert.AreEqual(ArKit.BlendShapeNames, face.Names);
            float maxJaw = 0f;
            for (int f = 0; f < face.FrameCount; f++)
            {
                maxJaw = Math.Max(maxJaw, face.Get(f, 17));
            }
            Assert.That(maxJaw, Is.GreaterThan(0.1f), "jawOpen moves during speech");
        }

        [Test]
        public void AudioToFaceJsonReturnsFrameRows()
        {
            string wavB64 = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(Harness.SpeechDir, "goforward.wav")));
            MsgMap response = AtelicoJson.ParseObject(_audio.AudioToFaceAsync("{\"audio_b64\":\"" + wavB64 + "\",\"character\":\"james\"}").Result);
            List<object> frames = response.GetList("frames");
            Assert.AreEqual(response.GetLong("frame_count"), frames.Count);
            Assert.AreEqual(52, ((List<object>)frames[0]).Count);
        }

        [Test]
        public void SpeakChunksCarryFaceFramesForTheirOwnAudio()
        {
            var chunks = new List<SpeechChunk>();
            SpeechResult result = null;
            AtelicoError error = null;
            _audio.Speak(new SpeechRequest { Input = "Hello there. How are you today?" }, "mark", chunks.Add, r => result = r, e => error = e);
            Harness.Pump(_queue, () => result != null || error != null, 90);
            Assert.IsNull(error, error == null ? "" : error.ToString());
            Assert.That(chunks.Count, Is.GreaterThanOrEqualTo(1));
            int expectedStart = 0;
            foreach (var chunk in chunks)
            {
                Assert.IsNotNull(chunk.Face, "chunk " + chunk.Sequence);
                Assert.AreEqual(expectedStart, chunk.Face.StartFrame, 1, "face frames are contiguous");
                Assert.AreEqual(chunk.DurationS * 30, chunk.Face.FrameCount, 2.0);
                expectedStart = chunk.Face.StartFrame + chunk.Face.FrameCount;
            }
        }

        [Test]
        public void AReplyWrittenWordByWordIsSpokenAndABargeInReportsTheWordsHeard()
        {
            var chunks = new List<SpeechChunk>();
            var errors = new List<AtelicoError>();
            SpeechResult result = null;
            SpeechStream stream = _audio.SpeakStream(new SpeechRequest { InputStream = true, Voice = "af_heart" }, "claire",
                chunks.Add, r => result = r, errors.Add);
            foreach (string word in new[] { "Stay", " close", " to", " the", " fire,", " traveller.", " The", " night" })
            {
                Assert.IsTrue(stream.Write(word));
            }
            // no End(): the reply is still being written when the NPC starts speaking
            Func<List<WordTiming>> words = () => chunks.SelectMany(c => c.Words).ToList();
            Harness.Pump(_queue, () => words().Count >= 2 || errors.Count > 0, 90);
            Assert.IsEmpty(errors);
            Assert.IsNull(result);
            Assert.IsNotNull(chunks[0].Face, "speech carries face frames");
            List<WordTiming> got = words();
            long cut = (long)((got[0].EndS + got[1].StartS) / 2 * 24000);
            Heard heard = null;
            int reports = 0;
            stream.BargeIn(cut, h => { heard = h; reports++; });
            Harness.Pump(_queue, () => heard != null && errors.Count > 0, 30);
            Assert.AreEqual(1, reports);
            Assert.AreEqual(cut, heard.PlayedSamples);
            Assert.AreEqual("Stay", heard.Text);
            Assert.AreEqual(1, heard.Words.Count);
            Assert.AreEqual(1, errors.Count);
            Assert.IsTrue(errors[0].IsCancelled);
            Assert.IsNotNull(Heard.FromData(errors[0].Details), "the report came from the sidecar");
            stream.BargeIn(0, h => reports++);
            Assert.AreEqual(1, reports, "one report per stream");
            Assert.IsFalse(stream.Write(" more"), "no text after the end");
        }

        [Test]
        public void ABargeInAfterTheStreamCompletedIsAnsweredByTheClient()
        {
            var chunks = new List<SpeechChunk>();
            SpeechResult result = null;
            AtelicoError error = null;
            SpeechStream stream = _audio.SpeakStream(new SpeechRequest { Input = "Look out! Wolves behind you.", Voice = "af_heart" }, null,
                chunks.Add, r => result = r, e => error = e);
            Harness.Pump(_queue, () => result != null || error != null, 90);
            Assert.IsNull(error);
            List<WordTiming> words = chunks.SelectMany(c => c.Words).ToList();
            Heard heard = null;
            stream.BargeIn((long)((words[0].EndS + 0.01) * 24000), h => heard = h);
            Assert.IsNotNull(heard, "answered at once");
            Assert.AreEqual(1, heard.Words.Count);
            Assert.AreEqual(words[0].Word.Trim(), heard.Text);
            Heard far = Heard.Of(words, long.MaxValue, 48000, 24000);
            Assert.AreEqual(2.0, far.PlayedS, 1e-9, "clamped to what was sent");
        }

        [Test]
        public void LiveTranscriptionOfStreamedSpeechGivesAFinal()
        {
            const string file = "goforward.wav";
            WavData wav = Wav.Parse(File.ReadAllBytes(Path.Combine(Harness.SpeechDir, file)));
            var finals = new List<LiveTranscript>();
            var partials = new List<string>();
            var warnings = new List<AtelicoError>();
            var activity = new List<string>(); // "started:<id>" / "stopped:<id>" / "final:<id>", in arrival order
            var started = new List<SpeechActivity>();
            var stopped = new List<SpeechActivity>();
            var threads = new HashSet<int>();
            int completions = 0;
            AtelicoError error = null;
            LiveTranscription session = _audio.StartLiveTranscription(new LiveTranscriptionOptions { Language = "en", SampleRateHz = wav.SampleRateHz },
                p => partials.Add(p.Text), f => { finals.Add(f); activity.Add("final:" + f.SegmentId); }, n => completions++, e => error = e,
                w => warnings.Add(w),
                s => { threads.Add(Thread.CurrentThread.ManagedThreadId); started.Add(s); activity.Add("started:" + s.SegmentId); },
                s => { threads.Add(Thread.CurrentThread.ManagedThreadId); stopped.Add(s); activity.Add("stopped:" + s.SegmentId); });
            int block = wav.SampleRateHz / 10;
            for (int i = 0; i < wav.Samples.Length; i += block)
            {
                // Paced like a microphone (a little faster than real time), as the live API expects.
                Assert.IsTrue(session.SendAudio(wav.Samples, i, Math.Min(block, wav.Samples.Length - i)));
                Thread.Sleep(100);
                _queue.Drain();
            }
            var silence = new float[wav.SampleRateHz];
            session.SendAudio(silence, 0, silence.Length);
            session.Stop();
            Harness.Pump(_queue, () => completions > 0 || error != null, 90);
            Assert.IsNull(error, error == null ? "" : error.ToString());
            string text = string.Join(" ", finals.Select(f => f.Text).ToArray());
            Assert.That(finals.Count, Is.GreaterThanOrEqualTo(1));
            string diagnostics = "finals: " + text + " | partials: " + string.Join(" / ", partials.ToArray())
                + " | warnings: " + string.Join(" / ", warnings.Select(w => w.ToString()).ToArray());
            StringAssert.StartsWith("go forward", text.ToLowerInvariant(), diagnostics);
            if (warnings.Count == 0)
            {
                // Nothing was dropped: the whole sentence must be there.
                Assert.That(Harness.Wer(Harness.TranscriptOf(file), text), Is.LessThanOrEqualTo(0.3), diagnostics);
            }
            else
            {
                Assert.AreEqual("stt.behind", warnings[0].Code, diagnostics);
            }
            AssertSpeechActivity(activity, started, stopped, (wav.Samples.Length + silence.Length) / (double)wav.SampleRateHz, finals);
            CollectionAssert.AreEqual(new[] { Thread.CurrentThread.ManagedThreadId }, threads.ToArray(), "speech events on the main thread");
        }

        private static void AssertSpeechActivity(List<string> activity, List<SpeechActivity> started, List<SpeechActivity> stopped,
                                                 double recordedS, List<LiveTranscript> finals)
        {
            string order = string.Join(" ", activity.ToArray());
            Assert.That(started.Count, Is.GreaterThanOrEqualTo(1), order);
            Assert.AreEqual(started.Count, stopped.Count, "one stopped per started: " + order);
            // The events alternate started, stopped, started, ... (each pair before the next one begins).
            List<string> pairs = activity.Where(a => !a.StartsWith("final:")).ToList();
            for (int i = 0; i < pairs.Count; i++)
            {
                StringAssert.StartsWith(i % 2 == 0 ? "started:" : "stopped:", pairs[i], order);
            }
            for (int i = 0; i < started.Count; i++)
            {
                Assert.AreEqual(started[i].SegmentId, stopped[i].SegmentId, order);
                Assert.IsNull(started[i].EndTimeS, "started carries no end");
                Assert.IsTrue(stopped[i].EndTimeS.HasValue, "stopped carries its end");
                Assert.AreEqual(started[i].StartTimeS, stopped[i].StartTimeS, 1e-6, "stopped repeats the onset");
                Assert.That(started[i].StartTimeS, Is.GreaterThanOrEqualTo(0.0).And.LessThan(stopped[i].EndTimeS.Value), order);
                Assert.That(stopped[i].EndTimeS.Value, Is.LessThanOrEqualTo(recordedS), "inside the recording: " + order);
            }
            foreach (LiveTranscript final in finals)
            {
                // Every final follows its own stopped, which follows its own started.
                int s = activity.LastIndexOf("started:" + final.SegmentId);
                int t = activity.LastIndexOf("stopped:" + final.SegmentId);
                int f = activity.IndexOf("final:" + final.SegmentId);
                Assert.That(s, Is.GreaterThanOrEqualTo(0), order);
                Assert.That(t, Is.GreaterThan(s), order);
                Assert.That(f, Is.GreaterThan(t), order);
            }
        }

        [Test]
        public void AWrongTokenFailsTheRequestWithAuthInvalidToken()
        {
            var queue = new MainThreadQueue();
            using (var client = new AtelicoClient(new AtelicoClientOptions { Endpoint = _sidecar.WebSocketUri, Token = "wrong" }, queue))
            {
                AtelicoError error = null;
                client.Send("models.list", new MsgMap(), null, new RequestCallbacks { OnError = e => error = e });
                Harness.Pump(queue, () => error != null, 10);
                Assert.AreEqual("auth.invalid_token", error.Code);
            }
        }
    }

    [TestFixture]
    public class SidecarLifecycleTests
    {
        [Test]
        public void WhenTheSidecarDiesMidStreamTheRequestEndsOnceWithConnectionLost()
        {
            var sidecar = Harness.Launch("tts");
            var queue = new MainThreadQueue();
            var client = new AtelicoClient(new AtelicoClientOptions { Endpoint = sidecar.WebSocketUri, Token = sidecar.Token }, queue);
            try
            {
                var audio = new AtelicoAudio(client, queue);
                var errors = new List<AtelicoError>();
                int completions = 0;
                int chunks = 0;
                string text = string.Join(" ", Enumerable.Repeat("This sentence keeps the synthesizer busy for a while.", 12).ToArray());
                audio.SynthesizeStream(new SpeechRequest { Input = text }, c =>
                {
                    chunks++;
                    if (chunks == 1)
                    {
                        SidecarProcess.KillTree(sidecar.Pid, TimeSpan.Zero);
                    }
                }, r => completions++, errors.Add);
                Harness.Pump(queue, () => errors.Count + completions > 0, 60);
                Harness.Pump(queue, () => true, 1.0);
                Assert.AreEqual(0, completions);
                Assert.AreEqual(1, errors.Count);
                Assert.AreEqual(ErrorCodes.ConnectionLost, errors[0].Code, errors[0].ToString());
                Assert.IsFalse(SidecarProcess.IsAlive(sidecar.Pid));
                Assert.AreEqual(0, client.InFlightCount);
            }
            finally
            {
                client.Dispose();
                sidecar.Dispose();
            }
        }

        private static string FakeSidecar(string mainPy)
        {
            string dir = Path.Combine(Path.GetTempPath(), "atelico-fake-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path.Combine(dir, "atelico"));
            File.WriteAllText(Path.Combine(dir, "atelico", "__init__.py"), "");
            File.WriteAllText(Path.Combine(dir, "atelico", "__main__.py"), mainPy);
            return dir;
        }

        [Test]
        public void ASidecarThatCrashesAtStartupReportsItsLogTail()
        {
            string dir = FakeSidecar("import sys\nprint('loading models...', flush=True)\nsys.stderr.write('FATAL: no module named kokoro\\n')\nsys.exit(3)\n");
            using (var sidecar = SidecarProcess.Start(new SidecarOptions { PythonPath = "python3", WorkingDirectory = dir, ListenTimeout = TimeSpan.FromSeconds(20) }))
            {
                var exc = Assert.Throws<AtelicoException>(() => sidecar.WaitForListening());
                Assert.AreEqual(ErrorCodes.SidecarStartFailed, exc.Code);
                StringAssert.Contains("exit code 3", exc.Message);
                StringAssert.Contains("FATAL: no module named kokoro", exc.Message);
            }
        }

        [Test]
        public void ASidecarThatNeverGetsReadyTimesOutWithNotReadyAndIsKilledWithItsChildren()
        {
            // Listens, answers /health/ready with 503 forever, and spawns a child process.
            string dir = FakeSidecar(
                "import http.server, socket, subprocess, sys\n" +
                "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n" +
                "open('child.pid', 'w').write(str(child.pid))\n" +
                "class H(http.server.BaseHTTPRequestHandler):\n" +
                "    def do_GET(self):\n" +
                "        self.send_response(503); self.end_headers(); self.wfile.write(b'loading')\n" +
                "    def log_message(self, *a): pass\n" +
                "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n" +
                "print('ATELICO_READY port=%d' % s.server_address[1], flush=True)\n" +
                "s.serve_forever()\n");
            var sidecar = SidecarProcess.Start(new SidecarOptions { PythonPath = "python3", WorkingDirectory = dir, ReadyTimeout = TimeSpan.FromSeconds(2) });
            try
            {
                sidecar.WaitForListening();
                Assert.That(sidecar.Port, Is.GreaterThan(0));
                var exc = Assert.Throws<AtelicoException>(() => sidecar.WaitForReady());
                Assert.AreEqual(ErrorCodes.SidecarNotReady, exc.Code);
                StringAssert.Contains("503", exc.Message);
                int child = int.Parse(File.ReadAllText(Path.Combine(dir, "child.pid")));
                Assert.IsTrue(SidecarProcess.IsAlive(child));
                Assert.IsTrue(SidecarProcess.KillTree(sidecar.Pid, TimeSpan.FromSeconds(2)));
                Assert.IsFalse(SidecarProcess.IsAlive(sidecar.Pid));
                Assert.IsFalse(SidecarProcess.IsAlive(child), "the child of the sidecar is gone too");
            }
            finally
            {
                sidecar.Dispose();
            }
        }

        [Test]
        public void AMissingInterpreterFailsToStartWithAClearError()
        {
            string dir = FakeSidecar("");
            var exc = Assert.Throws<AtelicoException>(() =>
            {
                using (var sidecar = SidecarProcess.Start(new SidecarOptions { PythonPath = "/nonexistent/python", WorkingDirectory = dir, ListenTimeout = TimeSpan.FromSeconds(10) }))
                {
                    sidecar.WaitForListening();
                }
            });
            Assert.AreEqual(ErrorCodes.SidecarStartFailed, exc.Code);
            StringAssert.Contains("/nonexistent/python", exc.Message);
        }
    }
}
