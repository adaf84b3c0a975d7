// AtelicoEngine and the components RUN in the simulated player loop against a real sidecar: callbacks
// are dispatched by the engine's Update on the main thread, speech plays through the stream player's
// PCM reader on the stand-in audio thread (real time), the face follows what was heard, and the live
// transcriber records the stand-in microphone.
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Atelico.Audio.Sidecar;
using NUnit.Framework;
using UnityEngine;
using UnityStandIn;

namespace Atelico.Audio.Engine.Tests
{
    [TestFixture]
    public class EngineLiveTests
    {
        private SidecarProcess _sidecar;

        private static string Repo { get { return Environment.GetEnvironmentVariable("ATELICO_REPO") ?? Path.GetFullPath("../.."); } }

        [TestFixtureSetUp]
        public void StartSidecar()
        {
            _sidecar = SidecarProcess.Start(new SidecarOptions
            {
                PythonPath = Environment.GetEnvironmentVariable("ATELICO_PYTHON") ?? Path.Combine(Repo, ".venv/bin/python"),
                WorkingDirectory = Repo,
                Preload = new[] { "tts", "whisper", "face" },
                ReadyTimeout = TimeSpan.FromSeconds(150),
                Environment = new Dictionary<string, string> { { "ATELICO_OFFLINE", "1" } },
            });
            _sidecar.WaitForReady();
        }

        [TestFixtureTearDown]
        public void StopSidecar()
        {
            Environment.SetEnvironmentVariable("ATELICO_URL", null);
            Environment.SetEnvironmentVariable("ATELICO_TOKEN", null);
            if (_sidecar != null)
            {
                _sidecar.Dispose();
            }
        }

        [SetUp]
        public void EnterPlayMode()
        {
            // What the editor integration publishes before play mode starts.
            Environment.SetEnvironmentVariable("ATELICO_URL", _sidecar.WebSocketUri.ToString());
            Environment.SetEnvironmentVariable("ATELICO_TOKEN", _sidecar.Token);
            PlayerLoop.Reset();
            AudioThread.Realtime = true;
            AudioThread.OutputRate = 48000;
        }

        [TearDown]
        public void LeavePlayMode()
        {
            PlayerLoop.ExitPlayMode(); // destroys the engine: its client closes
        }

        [Test]
        public void SpokenLinePlaysOnTheAudioThreadWhileTheFaceFollowsWhatWasHeard()
        {
            var go = new GameObject("npc");
            var player = go.AddComponent<AtelicoStreamPlayer>();
            var source = go.GetComponent<AudioSource>();
            var renderer = go.AddComponent<SkinnedMeshRenderer>();
            var mesh = new Mesh();
            mesh.AddBlendShapeFrame("jawOpen", 100f, new Vector3[0], null, null);
            renderer.sharedMesh = mesh;
            var face = go.AddComponent<AtelicoFaceDriver>();
            face.Target = renderer;
            face.Player = player;
            int main = Thread.CurrentThread.ManagedThreadId;
            var threads = new HashSet<int>();
            int chunks = 0;
            int completions = 0;
            double duration = 0;
            AtelicoError error = null;
            player.BeginUtterance();
            face.Clear();
            AtelicoEngine.Instance.Audio.Speak(new SpeechRequest { Input = "The lighthouse keeper climbed the stairs. He lit the lamp." }, "claire",
                chunk =>
                {
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                    chunks++;
                    player.Enqueue(chunk);
                    face.AddFrames(chunk.Face);
                },
                result =>
                {
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                    completions++;
                    duration = result.DurationS;
                    player.EndUtterance();
                },
                e =>
                {
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                    completions++;
                    error = e;
                    player.EndUtterance();
                });
            float maxJaw = 0f;
            bool clockAhead = false;
            bool started = false;
            Assert.IsTrue(PlayerLoop.RunUntil(() =>
            {
                if (source.isPlaying)
                {
                    started = true;
                    // The clock may never run ahead of what the listener heard.
                    clockAhead |= player.PlaybackTimeS * player.SampleRateHz > AudioThread.Heard(source).Length + 1;
                }
                maxJaw = Math.Max(maxJaw, renderer.GetBlendShapeWeight(0));
                return completions > 0 && started && !source.isPlaying;
            }, 90), UnityConsole.Dump());
            Assert.IsNull(error, error == null ? "" : error.ToString());
            Assert.AreEqual(1, completions);
            Assert.That(chunks, Is.GreaterThanOrEqualTo(2), "one chunk per sentence at least");
            CollectionAssert.AreEqual(new[] { main }, threads, "every callback ran on the main thread (AtelicoEngine.Update)");
            CollectionAssert.AreEqual(new[] { AudioThread.AudioThreadId }, AudioThread.ReaderThreads(source));
            Assert.IsFalse(clockAhead, "the face clock stayed behind the output position");
            float[] heard = AudioThread.Heard(source);
            int loud = Array.FindAll(heard, s => Math.Abs(s) > 0.01f).Length;
            Assert.That(loud, Is.GreaterThan(duration * player.SampleRateHz * 0.3), "the speech was heard");
            Assert.AreEqual(duration, player.PlaybackTimeS, 0.05, "the clock ends at the line's duration");
            Assert.That(maxJaw, Is.GreaterThan(1f), "the jaw moved");
            Assert.IsEmpty(UnityConsole.Errors, UnityConsole.Dump());
        }

        [Test]
        public void TheLiveTranscriberRecordsTheMicrophoneAndRaisesFinalOnTheMainThread()
        {
            var wav = Wav.Parse(File.ReadAllBytes(Path.Combine(Repo, "tests/data/speech/goforward.wav")));
            var go = new GameObject("ears");
            var transcriber = go.AddComponent<AtelicoLiveTranscriber>();
            Assert.IsTrue(transcriber.IsListening, "OnEnable started the microphone and the session");
            int main = Thread.CurrentThread.ManagedThreadId;
            var finals = new List<string>();
            var threads = new HashSet<int>();
            transcriber.onFinal.AddListener(text =>
            {
                threads.Add(Thread.CurrentThread.ManagedThreadId);
                finals.Add(text);
            });
            var errors = new List<string>();
            transcriber.onError.AddListener(errors.Add);
            var activity = new List<SpeechActivity>(); // started and stopped, in arrival order
            transcriber.onSpeechStarted.AddListener(s =>
            {
                threads.Add(Thread.CurrentThread.ManagedThreadId);
                activity.Add(s);
            });
            transcriber.onSpeechStopped.AddListener(s =>
            {
                threads.Add(Thread.CurrentThread.ManagedThreadId);
                activity.Add(s);
            });
            int block = wav.SampleRateHz / 20;
            int fed = 0;
            // The microphone device writes 50 ms per frame, about real time, as the live API expects.
            Assert.IsTrue(PlayerLoop.RunUntil(() =>
            {
                var piece = new float[block];
                if (fed < wav.Samples.Length)
                {
                    Array.Copy(wav.Samples, fed, piece, 0, Math.Min(block, wav.Samples.Length - fed));
                }
                fed += block;
                Mic.Feed(piece);
                return fed > wav.Samples.Length + wav.SampleRateHz;
            }, 30, 45));
            transcriber.enabled = false; // stops the microphone and flushes the session
            Assert.IsTrue(PlayerLoop.RunUntil(() => finals.Count > 0 || errors.Count > 0, 60), UnityConsole.Dump());
            Assert.IsEmpty(errors);
            StringAssert.StartsWith("go forward", string.Join(" ", finals.ToArray()).ToLowerInvariant());
            CollectionAssert.AreEqual(new[] { main }, threads);
            Assert.AreEqual(finals[finals.Count - 1], transcriber.CurrentText);
            Assert.That(activity.Count, Is.GreaterThanOrEqualTo(2), "speech began and ended");
            Assert.IsNull(activity[0].EndTimeS, "first a started");
            Assert.IsTrue(activity[1].EndTimeS.HasValue, "then its stopped");
            Assert.AreEqual(activity[0].SegmentId, activity[1].SegmentId);
            Assert.That(activity[1].EndTimeS.Value, Is.GreaterThan(activity[0].StartTimeS));
        }

        [Test]
        public void LeavingPlayModeEndsOpenRequestsOnceWithClientClosed()
        {
            var codes = new List<string>();
            AtelicoEngine.Instance.Audio.SynthesizeStream(new SpeechRequest { Input = "A long line that will not finish before play mode ends, because it is stopped at once." },
                chunk => { }, result => codes.Add("done"), e => codes.Add(e.Code));
            Assert.AreEqual(1, PlayerLoop.LiveObjects, "the engine created its own GameObject");
            PlayerLoop.ExitPlayMode();
            CollectionAssert.AreEqual(new[] { "client.closed" }, codes, "OnDestroy delivered the completion at once");
            Assert.AreEqual(0, PlayerLoop.LiveObjects);
        }
    }
}
