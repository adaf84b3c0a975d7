// The editor integration running in the simulated editor loop (main-thread-only editor APIs, play-mode
// events with a domain reload) against fake sidecars: launching never blocks the editor, the progress
// bar lives on the main thread and its Cancel works, failures are reported once with the log tail.
using System;
using System.IO;
using System.Threading;
using Atelico.Audio.Editor;
using Atelico.Audio.Sidecar;
using NUnit.Framework;
using UnityEditor;
using UnityEngine;
using UnityStandIn;
using UnityStandIn.EditorLoop;

namespace Atelico.Audio.Engine.Tests
{
    [TestFixture]
    public class EditorLoopTests
    {
        private string _project;
        private string _cwd;

        [SetUp]
        public void MakeProject()
        {
            _project = Path.Combine(Path.GetTempPath(), "atelico-project-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path.Combine(_project, "Library"));
            _cwd = Directory.GetCurrentDirectory();
            Directory.SetCurrentDirectory(_project); // SidecarController.ProjectRoot, like the editor's cwd
            EditorSim.Reset();
            EditorSim.DomainReload(); // a fresh domain: [InitializeOnLoad] hooks play mode
            Environment.SetEnvironmentVariable("ATELICO_URL", null);
        }

        [TearDown]
        public void StopSidecar()
        {
            Thread killer = SidecarController.Stop();
            if (killer != null)
            {
                Assert.IsTrue(killer.Join(TimeSpan.FromSeconds(10)), "the sidecar stop finished");
            }
            Directory.SetCurrentDirectory(_cwd);
        }

        /// <summary>A fake `python -m atelico`: prints ATELICO_READY, then /health/ready answers 503 loading
        /// until the file "release" exists in the project, then <paramref name="finalStatus"/>.</summary>
        private void FakeSidecar(int finalStatus, bool waitForRelease, float readyTimeoutS = 30f)
        {
            Directory.CreateDirectory(Path.Combine(_project, "atelico"));
            File.WriteAllText(Path.Combine(_project, "atelico", "__init__.py"), "");
            File.WriteAllText(Path.Combine(_project, "atelico", "__main__.py"),
                "import http.server, json, os, sys\n" +
                "open('args.json', 'w').write(json.dumps({'argv': sys.argv[1:], 'token': os.environ.get('ATELICO_TOKEN')}))\n" +
                "WAIT = " + (waitForRelease ? "True" : "False") + "\n" +
                "class H(http.server.BaseHTTPRequestHandler):\n" +
                "    def do_GET(self):\n" +
                "        if WAIT and not os.path.exists('release'):\n" +
                "            code, body = 503, b'{\"status\":\"loading\"}'\n" +
                "        elif " + finalStatus + " == 200:\n" +
                "            code, body = 200, b'{\"status\":\"ready\"}'\n" +
                "        else:\n" +
                "            code, body = " + finalStatus + ", b'{\"status\":\"error\",\"error\":{\"code\":\"model.unknown\",\"message\":\"no model nope\"}}'\n" +
                "        self.send_response(code); self.end_headers(); self.wfile.write(body)\n" +
                "    def log_message(self, *a): pass\n" +
                "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n" +
                "print('model load failed: kokoro weights missing', file=sys.stderr, flush=True)\n" +
                "print('ATELICO_READY port=%d' % s.server_address[1], flush=True)\n" +
                "s.serve_forever()\n");
            new AtelicoSettings { pythonPath = "python3", preloadModels = "tts,face", readyTimeoutS = readyTimeoutS, autoLaunch = true }.Save(_project);
        }

        private static void WaitGone(int pid)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (SidecarProcess.IsAlive(pid) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
            Assert.IsFalse(SidecarProcess.IsAlive(pid), "pid " + pid + " is gone");
        }

        [Test]
        public void PressingPlayWaitsForTheSidecarWithoutBlockingTheEditorThenEntersPlayMode()
        {
            FakeSidecar(200, true);
            Assert.IsFalse(EditorSim.PressPlay(), "entering play mode waits for the sidecar");
            Assert.IsFalse(EditorApplication.isPlaying);
            SidecarLaunch launch = SidecarController.Current;
            Assert.IsNotNull(launch, "a launch is in progress");
            // The sidecar stays "loading" until the test releases it: every tick returns meanwhile, and the
            // progress bar is drawn by the editor loop (the stand-in throws for it off the main thread).
            for (int i = 0; i < 30; i++)
            {
                EditorSim.Tick();
                Thread.Sleep(10);
            }
            Assert.IsTrue(ProgressBar.Visible);
            Assert.AreEqual("Atelico", ProgressBar.Title);
            Assert.That(ProgressBar.Updates, Is.GreaterThanOrEqualTo(30));
            Assert.IsFalse(EditorApplication.isPlaying);
            Assert.IsNull(Environment.GetEnvironmentVariable("ATELICO_URL"), "not published before ready");
            int reloads = EditorSim.Reloads;

            File.WriteAllText(Path.Combine(_project, "release"), "");
            Assert.IsTrue(EditorSim.TickUntil(() => EditorApplication.isPlaying, 20), UnityConsole.Dump());
            Assert.IsFalse(ProgressBar.Visible, "the progress bar is cleared");
            Assert.AreEqual(reloads + 1, EditorSim.Reloads, "play mode was entered once, through a domain reload");
            StringAssert.StartsWith("ws://127.0.0.1:" + SidecarController.Port + "/v1/ws", Environment.GetEnvironmentVariable("ATELICO_URL"));
            string token = Environment.GetEnvironmentVariable("ATELICO_TOKEN");
            Assert.That(token.Length, Is.GreaterThanOrEqualTo(24));
            string args = File.ReadAllText(Path.Combine(_project, "args.json"));
            StringAssert.Contains("\"token\": \"" + token + "\"", args, "the token reaches the sidecar through ATELICO_TOKEN");
            StringAssert.DoesNotContain(token, args.Substring(0, args.IndexOf("\"token\"")), "never on the command line");
            Assert.IsEmpty(UnityConsole.Errors, UnityConsole.Dump());
            int pid = SidecarController.RunningPid;
            Assert.That(pid, Is.GreaterThan(0));

            EditorSim.PressStop();
            Assert.IsFalse(EditorApplication.isPlaying);
            WaitGone(pid);
            Assert.AreEqual(0, SidecarController.RunningPid);
            Assert.IsNull(Environment.GetEnvironmentVariable("ATELICO_URL"));
        }

        [Test]
        public void CancelOnTheProgressBarStopsTheSidecarAndStaysInEditMode()
        {
            FakeSidecar(200, true);
            Assert.IsFalse(EditorSim.PressPlay());
            int pid = SidecarController.Current.Pid;
            EditorSim.Tick();
            Assert.IsTrue(ProgressBar.Visible);
            ProgressBar.PressCancel();
            Assert.IsTrue(EditorSim.TickUntil(() => SidecarController.Current == null, 10), "the launch ended");
            Assert.IsFalse(ProgressBar.Visible);
            WaitGone(pid);
            Assert.IsTrue(UnityConsole.Messages.Exists(m => m.StartsWith("warning: ") && m.Contains("cancelled")), UnityConsole.Dump());
            for (int i = 0; i < 5; i++)
            {
                EditorSim.Tick();
            }
            Assert.IsFalse(EditorApplication.isPlaying, "play mode is not entered after a cancel");
        }

        [Test]
        public void ASidecarThatCannotGetReadyLogsOneErrorWithItsLogTailAndIsStopped()
        {
            FakeSidecar(503, false, 5f);
            Assert.IsFalse(EditorSim.PressPlay());
            int pid = SidecarController.Current.Pid;
            Assert.IsTrue(EditorSim.TickUntil(() => SidecarController.Current == null, 15), "an error ends the wait early");
            var errors = UnityConsole.Errors;
            Assert.AreEqual(1, errors.Count, UnityConsole.Dump());
            StringAssert.Contains("sidecar.not_ready", errors[0]);
            StringAssert.Contains("model load failed: kokoro weights missing", errors[0], "the log tail is quoted");
            WaitGone(pid);
            EditorSim.Tick();
            Assert.IsFalse(EditorApplication.isPlaying);
        }

        [Test]
        public void TheStartMenuReturnsAtOnceAndASecondPlayUsesTheReadySidecar()
        {
            FakeSidecar(200, false);
            EditorSim.Menu("Tools/Atelico/Start Sidecar");
            Assert.IsNotNull(SidecarController.Current, "the menu started a launch and returned");
            Assert.IsTrue(EditorSim.TickUntil(() => SidecarController.IsReady, 20), UnityConsole.Dump());
            int pid = SidecarController.RunningPid;
            Assert.IsTrue(EditorSim.PressPlay(), "a ready sidecar lets play mode start at once");
            Assert.AreEqual(pid, SidecarController.RunningPid);
            EditorSim.Menu("Tools/Atelico/Check Sidecar");
            StringAssert.Contains("pid " + pid, UnityConsole.Messages[UnityConsole.Messages.Count - 1]);
        }

        [Test]
        public void TheSettingsPageStartsAndStopsTheSidecarAndDescribesIt()
        {
            FakeSidecar(200, false);
            SettingsProvider page = AtelicoSettingsProvider.Create();
            Assert.AreEqual("Project/Atelico Audio", page.settingsPath);
            page.OnGUI("");
            CollectionAssert.IsSubsetOf(new[] { "Start", "Stop" }, Gui.Drawn);
            Assert.IsNull(SidecarController.Current, "drawing the page starts nothing");
            StringAssert.Contains("not running", SidecarController.Describe());

            Gui.Click("Start");
            page.OnGUI("");
            SidecarLaunch launch = SidecarController.Current;
            Assert.IsNotNull(launch, "Start began a launch and returned");
            StringAssert.Contains("starting", SidecarController.Describe());
            bool? joined = null;
            Assert.AreSame(launch, SidecarController.Begin(AtelicoSettings.Load(_project), _project, false, ok => joined = ok),
                           "a second start joins the launch in progress");
            Assert.IsTrue(EditorSim.TickUntil(() => SidecarController.IsReady, 20), UnityConsole.Dump());
            Assert.AreEqual(true, joined);
            int pid = SidecarController.RunningPid;
            StringAssert.Contains("pid " + pid + " on port " + SidecarController.Port + ", ready", SidecarController.Describe());

            Gui.Click("Stop");
            page.OnGUI("");
            Assert.AreEqual(0, SidecarController.RunningPid);
            Assert.IsNull(Environment.GetEnvironmentVariable("ATELICO_URL"), "the endpoint is withdrawn");
            WaitGone(pid);
        }

        [Test]
        public void StopWhileStartingCancelsTheLaunchAndEndsTheProcess()
        {
            FakeSidecar(200, true); // stays "loading"
            bool? done = null;
            Assert.IsNotNull(SidecarController.Begin(AtelicoSettings.Load(_project), _project, false, ok => done = ok));
            int pid = SidecarController.Current.Pid;
            EditorSim.Tick();
            Assert.IsFalse(ProgressBar.Visible, "a launch without progress bar draws none");
            EditorSim.Menu("Tools/Atelico/Stop Sidecar");
            Assert.IsTrue(EditorSim.TickUntil(() => done.HasValue, 10), "the launch ended");
            Assert.AreEqual(false, done);
            WaitGone(pid);
            Assert.IsNull(SidecarController.Current);
        }

        [Test]
        public void WithoutAutoLaunchPlayStartsAtOnceAndEditorQuitStopsARunningSidecar()
        {
            FakeSidecar(200, false);
            var settings = AtelicoSettings.Load(_project);
            settings.autoLaunch = false;
            settings.Save(_project);
            Assert.IsTrue(EditorSim.PressPlay(), "play mode is not held for a sidecar");
            Assert.IsNull(SidecarController.Current, "nothing was launched");
            EditorSim.PressStop();

            EditorSim.Menu("Tools/Atelico/Start Sidecar");
            Assert.IsTrue(EditorSim.TickUntil(() => SidecarController.IsReady, 20), UnityConsole.Dump());
            int pid = SidecarController.RunningPid;
            EditorSim.Quit();
            Assert.IsFalse(SidecarProcess.IsAlive(pid), "editor quit waits for the sidecar to exit");
            Assert.AreEqual(0, SidecarController.RunningPid);
        }

        [Test]
        public void EditorApisThrowOffTheMainThreadButDebugDoesNot()
        {
            Exception progress = null;
            Exception session = null;
            var worker = new Thread(() =>
            {
                progress = Catch(() => EditorUtility.DisplayCancelableProgressBar("t", "i", 0f));
                session = Catch(() => SessionState.GetInt("k", 0));
                Debug.Log("from a worker");
            });
            worker.Start();
            Assert.IsTrue(worker.Join(5000));
            Assert.IsInstanceOf<UnityException>(progress);
            StringAssert.Contains("DisplayCancelableProgressBar can only be called from the main thread", progress.Message);
            Assert.IsInstanceOf<UnityException>(session);
            Assert.Contains("log: from a worker", UnityConsole.Messages);
        }

        internal static Exception Catch(Action action)
        {
            try
            {
                action();
                return null;
            }
            catch (Exception exc)
            {
                return exc;
            }
        }
    }
}
