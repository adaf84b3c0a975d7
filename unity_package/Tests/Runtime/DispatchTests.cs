// Main-thread dispatch and the client's request bookkeeping without a server.
using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Atelico.Audio.Protocol;
using NUnit.Framework;

namespace Atelico.Audio.Tests
{
    [TestFixture]
    public class MainThreadQueueTests
    {
        [Test]
        public void CallbacksPostedFromOtherThreadsRunOnTheDrainingThreadInOrder()
        {
            var queue = new MainThreadQueue();
            int mainThread = Thread.CurrentThread.ManagedThreadId;
            var seen = new List<int>();
            var threads = new List<int>();
            var worker = new Thread(() =>
            {
                for (int i = 0; i < 100; i++)
                {
                    int n = i;
                    queue.Post(() =>
                    {
                        seen.Add(n);
                        threads.Add(Thread.CurrentThread.ManagedThreadId);
                    });
                }
            });
            worker.Start();
            worker.Join();
            Assert.AreEqual(0, seen.Count, "nothing runs before Drain");
            Assert.AreEqual(100, queue.Drain());
            for (int i = 0; i < 100; i++)
            {
                Assert.AreEqual(i, seen[i]);
                Assert.AreEqual(mainThread, threads[i]);
            }
        }

        [Test]
        public void DrainRunsOnlyWhatWasQueuedWhenItStarted()
        {
            var queue = new MainThreadQueue();
            int runs = 0;
            Action again = null;
            again = () =>
            {
                runs++;
                queue.Post(again);
            };
            queue.Post(again);
            Assert.AreEqual(1, queue.Drain());
            Assert.AreEqual(1, runs);
            Assert.AreEqual(1, queue.Pending);
        }

        [Test]
        public void DrainRespectsItsBudget()
        {
            var queue = new MainThreadQueue();
            for (int i = 0; i < 10; i++)
            {
                queue.Post(() => { });
            }
            Assert.AreEqual(4, queue.Drain(4));
            Assert.AreEqual(6, queue.Pending);
        }

        [Test]
        public void AThrowingCallbackIsReportedAndDoesNotStopTheOthers()
        {
            var queue = new MainThreadQueue();
            var errors = new List<Exception>();
            queue.CallbackFailed = errors.Add;
            bool secondRan = false;
            queue.Post(() => { throw new InvalidOperationException("boom"); });
            queue.Post(() => secondRan = true);
            queue.Drain();
            Assert.IsTrue(secondRan);
            Assert.AreEqual(1, errors.Count);
        }

        [Test]
        public void DrainOffTheMainThreadThrows()
        {
            var queue = new MainThreadQueue();
            Exception caught = null;
            var worker = new Thread(() =>
            {
                try
                {
                    queue.Drain();
                }
                catch (Exception exc)
                {
                    caught = exc;
                }
            });
            worker.Start();
            worker.Join();
            Assert.IsInstanceOf<InvalidOperationException>(caught);
            Assert.IsTrue(queue.IsMainThread, "the test thread is the main thread");
        }
    }

    [TestFixture]
    public class ClientBookkeepingTests
    {
        private static int ClosedPort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private static AtelicoClient Client(MainThreadQueue queue)
        {
            return new AtelicoClient(new AtelicoClientOptions
            {
                Endpoint = new Uri("ws://127.0.0.1:" + ClosedPort() + "/v1/ws"),
                ConnectTimeout = TimeSpan.FromMilliseconds(600),
                ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
                ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            }, queue);
        }

        private static void Pump(MainThreadQueue queue, Func<bool> until, double seconds)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (!until() && DateTime.UtcNow < deadline)
            {
                queue.Drain();
                Thread.Sleep(10);
            }
            queue.Drain();
        }

        [Test]
        public void WithoutASidecarARequestEndsOnceWithConnectionUnavailableOnTheMainThread()
        {
            var queue = new MainThreadQueue();
            using (var client = Client(queue))
            {
                var errors = new List<AtelicoError>();
                int doneCount = 0;
                int errorThread = -1;
                client.Send("models.list", new MsgMap(), null, new RequestCallbacks
                {
                    OnDone = m => doneCount++,
                    OnError = e =>
                    {
                        errors.Add(e);
                        errorThread = Thread.CurrentThread.ManagedThreadId;
                    },
                });
                Pump(queue, () => errors.Count > 0, 5);
                Pump(queue, () => false, 0.5); // nothing else may arrive
                Assert.AreEqual(1, errors.Count);
                Assert.AreEqual(0, doneCount);
                Assert.AreEqual(ErrorCodes.ConnectionUnavailable, errors[0].Code);
                StringAssert.Contains("cannot connect", errors[0].Message);
                Assert.AreEqual(Thread.CurrentThread.ManagedThreadId, errorThread);
                Assert.AreEqual(0, client.InFlightCount);
            }
        }

        [Test]
        public void CancelBeforeSendingEndsOnceWithCancelled()
        {
            var queue = new MainThreadQueue();
            using (var client = Client(queue))
            {
                var errors = new List<AtelicoError>();
                var request = client.Send("tts.synthesize", new MsgMap { { "input", "hi" } }, null, new RequestCallbacks { OnError = errors.Add });
                request.Cancel();
                request.Cancel();
                Pump(queue, () => false, 1.0);
                Assert.AreEqual(1, errors.Count);
                Assert.IsTrue(errors[0].IsCancelled);
                Assert.IsTrue(request.IsCompleted);
            }
        }

        [Test]
        public void DisposeEndsOpenRequestsWithClientClosed()
        {
            var queue = new MainThreadQueue();
            var client = Client(queue);
            var errors = new List<AtelicoError>();
            client.Send("models.list", new MsgMap(), null, new RequestCallbacks { OnError = errors.Add });
            client.Send("voices.list", new MsgMap(), null, new RequestCallbacks { OnError = errors.Add });
            client.Dispose();
            queue.Drain();
            Assert.AreEqual(2, errors.Count);
            Assert.AreEqual(ErrorCodes.ClientClosed, errors[0].Code);
            var late = client.Send("models.list", new MsgMap(), null, new RequestCallbacks { OnError = errors.Add });
            queue.Drain();
            Assert.IsTrue(late.IsCompleted);
            Assert.AreEqual(3, errors.Count);
        }

        [Test]
        public void RequestIdsAreUnique()
        {
            var queue = new MainThreadQueue();
            using (var client = Client(queue))
            {
                var ids = new HashSet<string>();
                for (int i = 0; i < 50; i++)
                {
                    Assert.IsTrue(ids.Add(client.Send("ping", new MsgMap(), null, null).Id));
                }
            }
        }

        [Test]
        public void BlockingCallsRefuseTheMainThread()
        {
            var queue = new MainThreadQueue();
            using (var client = Client(queue))
            {
                var audio = new AtelicoAudio(client, queue);
                var exc = Assert.Throws<AtelicoException>(() => audio.Synthesize("{\"input\":\"hi\"}"));
                Assert.AreEqual(ErrorCodes.MainThreadBlocking, exc.Code);
            }
        }

        [Test]
        public void InvalidJsonReachesOnErrorOnTheMainThreadWithoutARequest()
        {
            var queue = new MainThreadQueue();
            using (var client = Client(queue))
            {
                var audio = new AtelicoAudio(client, queue);
                var errors = new List<string>();
                var handle = audio.SynthesizeStream("{not json", chunk => { }, () => { }, errors.Add);
                Assert.IsNull(handle);
                Assert.AreEqual(0, errors.Count, "reported on the next Drain, not synchronously");
                queue.Drain();
                Assert.AreEqual(1, errors.Count);
                Assert.AreEqual("request.invalid", AtelicoJson.ParseObject(errors[0]).GetMap("error").GetString("code"));
            }
        }

        [Test]
        public void EveryJsonEntryPointReportsBadInputWithItsCodeAndSendsNothing()
        {
            var queue = new MainThreadQueue();
            using (var client = Client(queue))
            {
                var audio = new AtelicoAudio(client, queue);
                var errors = new List<string>();
                Assert.IsNull(audio.Synthesize("[1, 2]", r => Assert.Fail("no result"), errors.Add));
                Assert.IsNull(audio.Transcribe("{\"audio_b64\": \"%%not base64%%\"}", r => Assert.Fail("no result"), errors.Add));
                Assert.IsNull(audio.Transcribe("{\"model\": \"whisper\"}", r => Assert.Fail("no result"), errors.Add));
                Assert.AreEqual(0, errors.Count, "reported on the next Drain, not synchronously");
                queue.Drain();
                var codes = errors.ConvertAll(e => AtelicoJson.ParseObject(e).GetMap("error").GetString("code"));
                CollectionAssert.AreEqual(new[] { "request.invalid", "request.invalid", "request.missing_input" }, codes);

                var tasks = new[]
                {
                    audio.SynthesizeAsync("{not json"),
                    audio.TranscribeAsync("{\"audio_b64\": \"\"}"),
                    audio.AudioToFaceAsync("{\"audio_b64\": \"%%\"}"),
                };
                var taskCodes = new List<string>();
                foreach (var task in tasks)
                {
                    Assert.IsTrue(task.IsFaulted, "failed at once, before any request");
                    taskCodes.Add(((AtelicoException)task.Exception.GetBaseException()).Code);
                }
                CollectionAssert.AreEqual(new[] { "request.invalid", "request.missing_input", "request.invalid" }, taskCodes);
                Assert.AreEqual(0, client.InFlightCount, "nothing was sent");
                Assert.AreSame(client, audio.Client);
                Assert.Throws<ArgumentNullException>(() => new AtelicoAudio(null, queue));
            }
        }
    }
}
