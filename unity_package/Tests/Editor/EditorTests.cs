// Editor integration: settings, python resolution, and the play-mode sidecar controller with fake sidecars.
using System;
using System.IO;
using Atelico.Audio.Editor;
using Atelico.Audio.Sidecar;
using NUnit.Framework;
using UnityEngine;

namespace Atelico.Audio.Editor.Tests
{
    [TestFixture]
    public class EditorTests
    {
        private string _project;

        [SetUp]
        public void MakeProject()
        {
            _project = Path.Combine(Path.GetTempPath(), "atelico-project-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path.Combine(_project, "Library"));
        }

        [TearDown]
        public void StopSidecar()
        {
            SidecarController.Stop();
        }

        /// <summary>A fake `python -m atelico` in the project folder: prints ATELICO_READY and answers /health/ready.</summary>
        private void FakeSidecar(int readyStatus)
        {
            Directory.CreateDirectory(Path.Combine(_project, "atelico"));
            File.WriteAllText(Path.Combine(_project, "atelico", "__init__.py"), "");
            File.WriteAllText(Path.Combine(_project, "atelico", "__main__.py"),
                "import http.server, json, os, sys\n" +
                "assert sys.argv[1:4] == ['serve', '--host', '127.0.0.1'], sys.argv\n" +
                "open('args.json', 'w').write(json.dumps({'argv': sys.argv[1:], 'token': os.environ.get('ATELICO_TOKEN')}))\n" +
                "class H(http.server.BaseHTTPRequestHandler):\n" +
                "    def do_GET(self):\n" +
                "        self.send_response(" + readyStatus + "); self.end_headers(); self.wfile.write(b'{\"status\":\"error\"}' if " + readyStatus + " != 200 else b'{}')\n" +
                "    def log_message(self, *a): pass\n" +
                "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n" +
                "print('model load failed: kokoro weights missing', file=sys.stderr, flush=True)\n" +
                "print('ATELICO_READY port=%d' % s.server_address[1], flush=True)\n" +
                "s.serve_forever()\n");
        }

        [Test]
        public void SettingsRoundTripThroughProjectSettingsJson()
        {
            var settings = new AtelicoSettings { pythonPath = "/opt/py/bin/python", port = 4321, preloadModels = "tts, whisper", autoLaunch = false, readyTimeoutS = 42.5f };
            settings.Save(_project);
            Assert.IsTrue(File.Exists(Path.Combine(_project, AtelicoSettings.FileName)));
            var loaded = AtelicoSettings.Load(_project);
            Assert.AreEqual("/opt/py/bin/python", loaded.pythonPath);
            Assert.AreEqual(4321, loaded.port);
            Assert.IsFalse(loaded.autoLaunch);
            Assert.AreEqual(42.5f, loaded.readyTimeoutS);
            SidecarOptions options = loaded.ToOptions(_project, "log.txt");
            CollectionAssert.AreEqual(new[] { "tts", "whisper" }, options.Preload);
            Assert.AreEqual(TimeSpan.FromSeconds(42.5), options.ReadyTimeout);
            Assert.AreEqual(_project, options.WorkingDirectory);
        }

        [Test]
        public void AVenvFolderResolvesToItsInterpreter()
        {
            Directory.CreateDirectory(Path.Combine(_project, ".venv", "bin"));
            var settings = new AtelicoSettings { pythonPath = ".venv" };
            Assert.AreEqual(Path.Combine(_project, ".venv", "bin", "python"), settings.ResolvePython(_project));
            Assert.AreEqual("python3", new AtelicoSettings { pythonPath = "python3" }.ResolvePython(_project), "bare names stay on PATH");
        }

        [Test]
        public void EnteringPlayModeLaunchesAndPublishesTheEndpointThenLeavingStopsIt()
        {
            FakeSidecar(200);
            var settings = new AtelicoSettings { pythonPath = "python3", preloadModels = "tts,face" };
            Assert.IsTrue(SidecarController.Start(settings, _project, null));
            int pid = SidecarController.RunningPid;
            Assert.That(pid, Is.GreaterThan(0));
            string url = Environment.GetEnvironmentVariable("ATELICO_URL");
            StringAssert.StartsWith("ws://127.0.0.1:" + SidecarController.Port + "/v1/ws", url);
            string token = Environment.GetEnvironmentVariable("ATELICO_TOKEN");
            Assert.That(token.Length, Is.GreaterThanOrEqualTo(24));
            string args = File.ReadAllText(Path.Combine(_project, "args.json"));
            StringAssert.Contains("\"--preload\", \"tts,face\"", args);
            StringAssert.Contains("--exit-with-parent", args);
            StringAssert.Contains(token, args, "the token reaches the sidecar through ATELICO_TOKEN");
            SidecarController.Stop();
            Assert.IsFalse(SidecarProcess.IsAlive(pid));
            Assert.AreEqual(0, SidecarController.RunningPid);
            Assert.IsNull(Environment.GetEnvironmentVariable("ATELICO_URL"));
        }

        [Test]
        public void ASidecarThatCannotGetReadyLogsOneErrorWithItsLogTailAndIsStopped()
        {
            FakeSidecar(503);
            Debug.Messages.Clear();
            var settings = new AtelicoSettings { pythonPath = "python3", readyTimeoutS = 5f };
            Assert.IsFalse(SidecarController.Start(settings, _project, null));
            var errors = Debug.Messages.FindAll(m => m.StartsWith("error: "));
            Assert.AreEqual(1, errors.Count, string.Join("\n", Debug.Messages.ToArray()));
            StringAssert.Contains("sidecar.not_ready", errors[0]);
            StringAssert.Contains("model load failed: kokoro weights missing", errors[0], "the log tail is quoted");
            Assert.AreEqual(0, SidecarController.RunningPid);
        }
    }
}
