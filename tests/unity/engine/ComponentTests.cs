// The package's components in the simulated player loop: messages in Unity's order, a read-only clock,
// the stream player's PCM reader called on the stand-in audio thread with large read-ahead blocks.
using System;
using System.Threading;
using NUnit.Framework;
using UnityEngine;
using UnityStandIn;

namespace Atelico.Audio.Engine.Tests
{
    [TestFixture]
    public class ComponentTests
    {
        private const int Rate = 24000;

        [SetUp]
        public void FreshScene()
        {
            PlayerLoop.Reset();
            AudioThread.Realtime = false; // output advances only when a test renders it (still on the audio thread)
            AudioThread.OutputRate = Rate;
        }

        [TearDown]
        public void BackToRealtime()
        {
            PlayerLoop.ExitPlayMode();
            AudioThread.Realtime = true;
            AudioThread.OutputRate = 48000;
        }

        private static float[] Constant(int count, float value)
        {
            var samples = new float[count];
            for (int i = 0; i < count; i++)
            {
                samples[i] = value;
            }
            return samples;
        }

        [Test]
        public void TheReaderRunsOnTheAudioThreadAndTheClockCountsOnlyWhatWasHeard()
        {
            var go = new GameObject("speaker");
            var player = go.AddComponent<AtelicoStreamPlayer>();
            var source = go.GetComponent<AudioSource>();
            Assert.IsNotNull(source, "[RequireComponent] added the AudioSource");
            Assert.IsNotNull(source.clip, "OnEnable created the streaming clip");
            player.BeginUtterance();
            player.Enqueue(new float[1200]); // 50 ms: below the 100 ms preroll
            PlayerLoop.Frame();
            Assert.IsFalse(source.isPlaying);
            player.Enqueue(Constant(2400, 0.5f));
            PlayerLoop.Frame();
            Assert.IsTrue(source.isPlaying);

            // Play() makes the audio thread read ahead (thousands of samples) before anything is heard.
            AudioThread.Render(1);
            Assert.That(AudioThread.ReaderCalls(source), Is.GreaterThanOrEqualTo(1));
            Assert.AreEqual(AudioThread.BlockFrames, AudioThread.LargestRead(source));
            CollectionAssert.AreEqual(new[] { AudioThread.AudioThreadId }, AudioThread.ReaderThreads(source), "only the audio thread calls the reader");
            Assert.AreNotEqual(Thread.CurrentThread.ManagedThreadId, AudioThread.AudioThreadId);
            Assert.AreEqual(0.0, player.BufferedS, "the read-ahead took every queued sample");
            Assert.AreEqual(1.0 / Rate, player.PlaybackTimeS, 1e-9, "the clock is what was heard, not what was read");

            AudioThread.Render(1199);
            Assert.AreEqual(0.05, player.PlaybackTimeS, 1e-9);
            AudioThread.Render(2400 + 2400); // the chunk, then 100 ms of underrun while the utterance is open
            float[] heard = AudioThread.Heard(source);
            Assert.AreEqual(0f, heard[1199]);
            Assert.AreEqual(0.5f, heard[1200], "the next chunk follows without a gap");
            Assert.AreEqual(0f, heard[3600], "underrun: silence");
            Assert.AreEqual(0.15, player.PlaybackTimeS, 1e-9, "silence padded in during the underrun does not advance the clock");
            Assert.That(player.UnderrunS, Is.GreaterThan(0.0));
            PlayerLoop.Frame();
            Assert.IsTrue(player.IsSpeaking && source.isPlaying, "the utterance is still open");

            // A late chunk: read at the next block (after the padding already read ahead), then heard.
            player.Enqueue(Constant(1200, 0.25f));
            player.EndUtterance();
            PlayerLoop.Frame();
            Assert.IsTrue(source.isPlaying, "not stopped while read-ahead audio is unheard");
            Assert.IsTrue(PlayerLoop.RunUntil(() =>
            {
                AudioThread.Render(1200);
                return !source.isPlaying;
            }, 10, 0));
            Assert.AreEqual(0.2, player.PlaybackTimeS, 1e-9, "the clock ends at the real audio's end");
            heard = AudioThread.Heard(source);
            Assert.AreEqual(1200, Array.FindAll(heard, s => s == 0.25f).Length, "the late chunk was heard whole before the stop");

            player.enabled = false;
            Assert.IsNull(source.clip, "OnDisable released the clip");
        }

        [Test]
        public void TheClockKeepsCountingPastTheLoopingClipsLength()
        {
            var go = new GameObject("narrator");
            var player = go.AddComponent<AtelicoStreamPlayer>();
            var source = go.GetComponent<AudioSource>();
            int clipFrames = source.clip.samples;
            Assert.AreEqual(10 * Rate, clipFrames, "a 10 s looping clip");
            player.BeginUtterance();
            player.Enqueue(Constant(12 * Rate, 0.1f)); // 12 s: the output position wraps once
            player.EndUtterance();
            PlayerLoop.Frame();
            Assert.IsTrue(source.isPlaying);
            for (int heard = 0; heard < 11 * Rate; heard += Rate / 10)
            {
                AudioThread.Render(Rate / 10); // 100 ms per game frame
                PlayerLoop.Frame();
            }
            Assert.AreEqual(Rate, source.timeSamples, "the clip's output position wrapped: 11 s into a 10 s loop");
            Assert.AreEqual(11.0, player.PlaybackTimeS, 1e-9, "the clock unwraps the position");
            Assert.IsTrue(PlayerLoop.RunUntil(() =>
            {
                AudioThread.Render(Rate / 10);
                return !source.isPlaying;
            }, 10, 0));
            Assert.AreEqual(12.0, player.PlaybackTimeS, 1e-9, "stopped at the end of the 12 s utterance");
        }

        [Test]
        public void StopSpeakingDropsQueuedAudioAndAChunkAtAnotherRateRestartsTheClip()
        {
            var go = new GameObject("speaker");
            var player = go.AddComponent<AtelicoStreamPlayer>();
            var source = go.GetComponent<AudioSource>();
            player.BeginUtterance();
            player.Enqueue(Constant(Rate, 0.5f));
            PlayerLoop.Frame();
            AudioThread.Render(Rate / 10);
            Assert.IsTrue(source.isPlaying && player.IsSpeaking);
            player.StopSpeaking();
            Assert.IsFalse(source.isPlaying, "stopped at once");
            Assert.AreEqual(0.0, player.BufferedS, "queued audio dropped");
            Assert.AreEqual(0.0, player.PlaybackTimeS, "the clock is reset");
            PlayerLoop.Frame();
            Assert.IsFalse(source.isPlaying, "nothing left to play");

            AudioClip first = source.clip;
            player.Enqueue(new SpeechChunk { Sequence = 0, SampleRateHz = 16000, Channels = 1, Samples = Constant(3200, 0.25f) });
            Assert.AreEqual(16000, player.SampleRateHz);
            Assert.AreNotSame(first, source.clip, "a new clip at the chunk's rate");
            Assert.AreEqual(16000, source.clip.frequency);
            Assert.AreEqual(0.2, player.BufferedS, 1e-9, "3200 samples at 16 kHz");

            player.enabled = false;
            player.BeginUtterance();
            player.Enqueue(Constant(100, 1f));
            Assert.AreEqual(0.0, player.BufferedS, "a disabled player ignores audio");
            Assert.IsFalse(player.IsSpeaking);
        }

        [Test]
        public void ClipsFromSamplesAndChunksHoldTheSamplesAtTheirRate()
        {
            var chunk = new SpeechChunk { Sequence = 3, SampleRateHz = 16000, Channels = 1, Samples = new[] { 0.1f, -0.2f, 0.3f } };
            AudioClip clip = AudioClipUtility.FromChunk(chunk);
            Assert.AreEqual("atelico-chunk-3", clip.name);
            Assert.AreEqual(3, clip.samples);
            Assert.AreEqual(1, clip.channels);
            Assert.AreEqual(16000, clip.frequency);
            var data = new float[3];
            Assert.IsTrue(clip.GetData(data, 0));
            CollectionAssert.AreEqual(chunk.Samples, data);
            Assert.AreEqual("atelico", AudioClipUtility.FromSamples(new float[10], 24000).name);
        }

        [Test]
        public void ASecondEngineIsDestroyedAndTheFirstClosesItsRequestsWhenDestroyed()
        {
            Environment.SetEnvironmentVariable("ATELICO_URL", null);
            AtelicoEngine engine = AtelicoEngine.Instance;
            Assert.AreEqual(new Uri("ws://127.0.0.1:11434/v1/ws"), engine.Endpoint, "without ATELICO_URL: the serialized host and port");
            Assert.AreEqual(engine.Endpoint, engine.Client.Options.Endpoint);
            var second = new GameObject("another engine").AddComponent<AtelicoEngine>();
            PlayerLoop.Frame();
            Assert.IsTrue(second == null, "the duplicate destroyed itself");
            Assert.IsTrue(UnityConsole.Messages.Exists(m => m.StartsWith("warning: Atelico: a second AtelicoEngine was destroyed")), UnityConsole.Dump());
            Assert.AreSame(engine, AtelicoEngine.Instance);

            AtelicoError error = null;
            engine.Client.Send("models.list", new Protocol.MsgMap(), null, new RequestCallbacks { OnError = e => error = e });
            PlayerLoop.ExitPlayMode(); // destroys the engine
            Assert.IsNotNull(error, "the open request ended during OnDestroy, on the main thread");
            Assert.AreEqual(ErrorCodes.ClientClosed, error.Code);
        }

        [Test]
        public void AFaceDrivenByThePlayerWaitsForTheVoiceNotForTheReadAhead()
        {
            var go = new GameObject("npc");
            var player = go.AddComponent<AtelicoStreamPlayer>();
            var renderer = go.AddComponent<SkinnedMeshRenderer>();
            var mesh = new Mesh();
            mesh.AddBlendShapeFrame("mouthClose", 100f, new Vector3[0], null, null);
            mesh.AddBlendShapeFrame("jawOpen", 100f, new Vector3[0], null, null);
            renderer.sharedMesh = mesh;
            var face = go.AddComponent<AtelicoFaceDriver>();
            face.Target = renderer;
            face.Player = player;
            Assert.AreEqual(2, face.MappedCount);
            var weights = new float[52 * 30]; // one second at 30 fps: jawOpen = frame / 30
            for (int f = 0; f < 30; f++)
            {
                weights[f * 52 + 17] = f / 30f;
            }
            player.BeginUtterance();
            face.Clear();
            face.AddFrames(new FaceFrames(30, 0, 30, 52, weights));
            player.Enqueue(Constant(Rate, 0.1f));
            PlayerLoop.Frame();
            AudioThread.Render(1);
            PlayerLoop.Frame();
            Assert.AreEqual(0f, renderer.GetBlendShapeWeight(1), 1e-3, "nothing heard yet (50 ms latency): the face is at frame 0");
            AudioThread.Render(Rate / 2 + Rate / 20 - 1); // 0.55 s heard; minus the 50 ms output latency = 0.5 s
            PlayerLoop.Frame();
            Assert.AreEqual(50f, renderer.GetBlendShapeWeight(1), 1.0, "frame 15 of 30: jawOpen 0.5 x 100");
            face.enabled = false;
            Assert.AreEqual(0f, renderer.GetBlendShapeWeight(1), "OnDisable puts the face back to neutral");
        }

        [Test]
        public void AFaceWithoutAPlayerRunsOnTheReadOnlyGameClock()
        {
            var go = new GameObject("npc");
            var renderer = go.AddComponent<SkinnedMeshRenderer>();
            var mesh = new Mesh();
            mesh.AddBlendShapeFrame("jawOpen", 100f, new Vector3[0], null, null);
            renderer.sharedMesh = mesh;
            var face = go.AddComponent<AtelicoFaceDriver>();
            face.Target = renderer;
            var weights = new float[52 * 3];
            weights[17] = 0.2f;
            weights[52 + 17] = 0.3f;
            weights[104 + 17] = 0.4f;
            face.AddFrames(new FaceFrames(30, 0, 3, 52, weights));
            PlayerLoop.Frame(1f / 30f);
            Assert.AreEqual(30f, renderer.GetBlendShapeWeight(0), 1e-3, "one frame (1/30 s) later: frame 1");
        }

        [Test]
        public void MessagesRunInUnitysOrderAndDestroyWaitsForTheEndOfTheFrame()
        {
            var go = new GameObject("probe");
            var probe = go.AddComponent<Probe>();
            CollectionAssert.AreEqual(new[] { "Awake", "OnEnable" }, probe.Calls);
            PlayerLoop.Frame();
            CollectionAssert.AreEqual(new[] { "Awake", "OnEnable", "Start", "Update", "LateUpdate" }, probe.Calls);
            probe.DestroyInUpdate = true;
            PlayerLoop.Frame();
            CollectionAssert.AreEqual(new[] { "Awake", "OnEnable", "Start", "Update", "LateUpdate", "Update", "LateUpdate", "OnDisable", "OnDestroy" }, probe.Calls);
            Assert.IsTrue(probe == null, "a destroyed object equals null");
        }

        [Test]
        public void MainThreadOnlyApisThrowUnityExceptionOnOtherThreads()
        {
            Exception time = null;
            Exception clip = null;
            var worker = new Thread(() =>
            {
                time = EditorLoopTests.Catch(() => Console.WriteLine(Time.time));
                clip = EditorLoopTests.Catch(() => AudioClip.Create("x", 10, 1, 24000, false));
                Debug.LogWarning("Debug is thread-safe");
            });
            worker.Start();
            Assert.IsTrue(worker.Join(5000));
            Assert.IsInstanceOf<UnityException>(time);
            StringAssert.StartsWith("get_time can only be called from the main thread", time.Message);
            Assert.IsInstanceOf<UnityException>(clip);
            Assert.Contains("warning: Debug is thread-safe", UnityConsole.Messages);
            Assert.IsNull(typeof(Time).GetProperty("time").GetSetMethod(true), "Time.time is read-only");
        }

        private sealed class Probe : MonoBehaviour
        {
            public readonly System.Collections.Generic.List<string> Calls = new System.Collections.Generic.List<string>();
            public bool DestroyInUpdate;

            private void Awake() { Calls.Add("Awake"); }
            private void OnEnable() { Calls.Add("OnEnable"); }
            private void Start() { Calls.Add("Start"); }
            private void Update()
            {
                Calls.Add("Update");
                if (DestroyInUpdate)
                {
                    Destroy(this);
                }
            }
            private void LateUpdate() { Calls.Add("LateUpdate"); }
            private void OnDisable() { Calls.Add("OnDisable"); }
            private void OnDestroy() { Calls.Add("OnDestroy"); }
        }
    }
}
