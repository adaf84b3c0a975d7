// The launcher side of docs/launch.md in SidecarProcess, against the real sidecar.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using Atelico.Audio;
using Atelico.Audio.Sidecar;
using NUnit.Framework;

namespace Atelico.Audio.E2E.Tests
{
    [TestFixture]
    public class LaunchContractTests
    {
        private static SidecarOptions Options(string preload)
        {
            return new SidecarOptions
            {
                PythonPath = Harness.Python,
                WorkingDirectory = Harness.Repo,
                Preload = preload.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries),
                ReadyTimeout = TimeSpan.FromSeconds(60),
                ListenTimeout = TimeSpan.FromSeconds(60),
                Environment = new Dictionary<string, string> { { "ATELICO_OFFLINE", "1" } },
            };
        }

        [Test]
        public void ArgumentsCarryTheParentPidAndNeverTheToken()
        {
            var options = new SidecarOptions { Token = "secret-token", Preload = new[] { "tts", "face" } };
            List<string> args = SidecarProcess.Arguments(options, 4242);
            CollectionAssert.DoesNotContain(args, "--token");
            CollectionAssert.DoesNotContain(args, "secret-token");
            int at = args.IndexOf("--parent-pid");
            Assert.That(at > 0 && args[at + 1] == "4242", string.Join(" ", args.ToArray()));
            Assert.That(args.IndexOf("--exit-with-parent") >= 0);
            Assert.AreEqual("tts,face", args[args.IndexOf("--preload") + 1]);
        }

        [Test]
        public void ReadinessErrorReadsCodeAndMessageAndIgnoresLoading()
        {
            Assert.IsNull(SidecarProcess.ReadinessError("503 {\"status\":\"loading\",\"models\":[],\"errors\":[]}"));
            string body = "503 {\"status\":\"error\",\"models\":[],\"errors\":[],\"error\":{\"code\":\"model.unknown\",\"message\":\"preloading 'x': unknown \\\"x\\\"\"}}";
            Assert.AreEqual("model.unknown: preloading 'x': unknown \"x\"", SidecarProcess.ReadinessError(body));
        }

        [Test]
        public void ABadPreloadIdFailsAtOnceWithItsCodeNotAfterTheTimeout()
        {
            using (var sidecar = SidecarProcess.Start(Options("no-such-model")))
            {
                var watch = Stopwatch.StartNew();
                var exc = Assert.Throws<AtelicoException>(() => sidecar.WaitForReady());
                Assert.AreEqual(ErrorCodes.SidecarNotReady, exc.Code);
                StringAssert.Contains("model.unknown", exc.Message);
                StringAssert.Contains("no-such-model", exc.Message);
                Assert.Less(watch.Elapsed.TotalSeconds, 30.0, "stopped waiting at once, not at the 60 s timeout");
                Assert.IsNotNull(sidecar.SidecarLogPath, "the sidecar printed its log file");
                Assert.IsTrue(File.Exists(sidecar.SidecarLogPath));
            }
        }

        private const string StallingSidecar =
            "import http.server, socketserver, threading, time\n" +
            "seen = [0]\nlock = threading.Lock()\n" +
            "class H(http.server.BaseHTTPRequestHandler):\n" +
            "    def do_GET(self):\n" +
            "        with lock:\n            seen[0] += 1\n            n = seen[0]\n" +
            "        if n <= 2:\n            time.sleep(6)  # longer than a probe's 2 s: a loaded machine\n" +
            "        body = b'{\"status\":\"ready\",\"models\":[],\"errors\":[]}'\n" +
            "        self.send_response(200)\n        self.send_header('Content-Length', str(len(body)))\n" +
            "        self.end_headers()\n        self.wfile.write(body)\n" +
            "    def log_message(self, *args):\n        pass\n" +
            "class S(socketserver.ThreadingMixIn, http.server.HTTPServer):\n    daemon_threads = True\n" +
            "s = S(('127.0.0.1', 0), H)\n" +
            "print('ATELICO_READY port=%d' % s.server_address[1], flush=True)\n" +
            "s.serve_forever()\n";

        /// <summary>A temp folder where <c>python3 -m atelico</c> runs <paramref name="main"/>.</summary>
        private static string FakeAtelico(string main)
        {
            string dir = Path.Combine(Path.GetTempPath(), "atelico-fake-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path.Combine(dir, "atelico"));
            File.WriteAllText(Path.Combine(dir, "atelico", "__init__.py"), "");
            File.WriteAllText(Path.Combine(dir, "atelico", "__main__.py"), main);
            return dir;
        }

        [Test]
        public void ProbesThatTimedOutDoNotStallTheReadyWait()
        {
            var options = new SidecarOptions { PythonPath = "python3", WorkingDirectory = FakeAtelico(StallingSidecar), ReadyTimeout = TimeSpan.FromSeconds(40) };
            using (var sidecar = SidecarProcess.Start(options))
            {
                var watch = Stopwatch.StartNew();
                sidecar.WaitForReady();  // two probes time out, the third must get the 200
                Assert.Less(watch.Elapsed.TotalSeconds, 30.0);
            }
        }

        private const string ProgressThenSplitReadyLine =
            "import http.server, sys, time\n" +
            "class H(http.server.BaseHTTPRequestHandler):\n" +
            "    def do_GET(self):\n" +
            "        self.send_response(200)\n        self.end_headers()\n        self.wfile.write(b'{\"status\":\"ready\"}')\n" +
            "    def log_message(self, *args):\n        pass\n" +
            "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n" +
            "port = str(s.server_address[1])\n" +
            "sys.stderr.write('verify model.bin:  41%|####      | 36.0M/88.1M'); sys.stderr.flush()\n" +
            "sys.stdout.write('ATELICO_READY port=' + port[:2]); sys.stdout.flush()\n" +
            "time.sleep(1.0)\n" +
            "sys.stdout.write(port[2:] + '\\n'); sys.stdout.flush()\n" +
            "s.serve_forever()\n";

        [Test]
        public void TheReadyLineIsReadAfterAProgressBarOnTheSameLineAndOnlyOnceComplete()
        {
            using (var sidecar = SidecarProcess.Start(new SidecarOptions { PythonPath = "python3", WorkingDirectory = FakeAtelico(ProgressThenSplitReadyLine) }))
            {
                sidecar.WaitForListening();
                StringAssert.Contains("36.0M/88.1MATELICO_READY port=" + sidecar.Port, File.ReadAllText(sidecar.LogPath), "stderr's bar and the ready line share a line");
                Assert.That(sidecar.Port, Is.GreaterThanOrEqualTo(1000), "the whole port, not the digits written first");
                sidecar.WaitForReady();
            }
        }

        [Test]
        public void ParseHttpAnswerReadsStatusAndBody()
        {
            string description;
            Assert.AreEqual(503, SidecarProcess.ParseHttpAnswer("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\n\r\n{}", out description));
            Assert.AreEqual("503 {}", description);
            Assert.AreEqual(0, SidecarProcess.ParseHttpAnswer("garbage", out description));
        }

        /// <summary>Starts a sidecar inside another AppDomain (Unity's scripting domain).</summary>
        public sealed class DomainStarter : MarshalByRefObject
        {
            public string Start(string python, string repo)
            {
                var options = new SidecarOptions
                {
                    PythonPath = python,
                    WorkingDirectory = repo,
                    Preload = new string[0],
                    Environment = new Dictionary<string, string> { { "ATELICO_OFFLINE", "1" } },
                };
                var sidecar = SidecarProcess.Start(options);
                sidecar.WaitForReady();
                return sidecar.Pid + " " + sidecar.Token;  // the object is left behind, as after a reload
            }
        }

        [Test]
        public void TheTokenIsNotOnTheCommandLineAndTheSidecarSurvivesADomainReload()
        {
            AppDomain domain = AppDomain.CreateDomain("scripting", null, AppDomain.CurrentDomain.SetupInformation);
            var starter = (DomainStarter)domain.CreateInstanceAndUnwrap(typeof(DomainStarter).Assembly.FullName, typeof(DomainStarter).FullName);
            string[] started = starter.Start(Harness.Python, Harness.Repo).Split(' ');
            int pid = int.Parse(started[0]);
            try
            {
                string cmdline = File.ReadAllText("/proc/" + pid + "/cmdline");
                StringAssert.DoesNotContain(started[1], cmdline);
                StringAssert.Contains("--parent-pid\0" + Process.GetCurrentProcess().Id, cmdline);
                // Unloading the domain finalizes every object it made, the stdin stream included.
                AppDomain.Unload(domain);
                var deadline = DateTime.UtcNow.AddSeconds(3);
                while (DateTime.UtcNow < deadline && SidecarProcess.IsAlive(pid))
                {
                    Thread.Sleep(100);  // an EOF on stdin would end it within ~0.1 s
                }
                Assert.IsTrue(SidecarProcess.IsAlive(pid), "the sidecar survived the domain reload");
            }
            finally
            {
                Assert.IsTrue(SidecarProcess.KillTree(pid, TimeSpan.FromSeconds(3)));
            }
        }
    }
}
