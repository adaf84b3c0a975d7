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
