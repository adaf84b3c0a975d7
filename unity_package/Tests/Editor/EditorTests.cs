// Editor integration: project settings and python resolution (the play-mode launcher runs in tests/unity/engine).
using System;
using System.IO;
using Atelico.Audio.Editor;
using Atelico.Audio.Sidecar;
using NUnit.Framework;

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
        public void RemoveProject()
        {
            Directory.Delete(_project, true);
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
    }
}
