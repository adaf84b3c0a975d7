// Project settings of the sidecar integration, stored in ProjectSettings/AtelicoSettings.json.
using System;
using System.Collections.Generic;
using System.IO;
using Atelico.Audio.Protocol;
using Atelico.Audio.Sidecar;

namespace Atelico.Audio.Editor
{
    /// <summary>
    /// Where the Python sidecar lives and how to launch it. Saved as JSON under ProjectSettings/ so
    /// it is versioned with the project; edited in Project Settings > Atelico Audio.
    /// </summary>
    [Serializable]
    public sealed class AtelicoSettings
    {
        public const string FileName = "ProjectSettings/AtelicoSettings.json";

        /// <summary>Python interpreter with the <c>atelico</c> package installed; a venv folder works too
        /// (its bin/python or Scripts\python.exe is used). Relative paths are relative to the project.</summary>
        public string pythonPath = ".venv";

        /// <summary>Working directory of the sidecar (relative to the project); empty = the project folder.</summary>
        public string workingDirectory = "";

        /// <summary>TCP port; 0 = pick a free one on every launch.</summary>
        public int port;

        /// <summary>Comma-separated model ids loaded at start (e.g. <c>tts,whisper,face</c>).</summary>
        public string preloadModels = "tts,whisper,face";

        /// <summary>Launch the sidecar when entering play mode and stop it when leaving.</summary>
        public bool autoLaunch = true;

        /// <summary>Seconds to wait for <c>/health/ready</c> before giving up.</summary>
        public float readyTimeoutS = 120f;

        /// <summary>Extra command-line arguments for <c>atelico serve</c>, space-separated.</summary>
        public string extraArguments = "";

        /// <summary>The <c>atelico bundle</c> folder desktop player builds carry (relative to the project);
        /// empty = ship none (<see cref="SidecarBundleBuild"/>).</summary>
        public string bundlePath = "../atelico-sidecar";

        /// <summary>Players launch the bundled sidecar at start (with the preload list, port, ready timeout
        /// and extra arguments above); off: the bundle ships, and the game starts it itself.</summary>
        public bool launchInPlayers = true;

        /// <summary>Read the settings of the project at <paramref name="projectRoot"/> (defaults when absent).</summary>
        public static AtelicoSettings Load(string projectRoot)
        {
            string path = Path.Combine(projectRoot, FileName);
            var settings = new AtelicoSettings();
            if (!File.Exists(path))
            {
                return settings;
            }
            MsgMap map = AtelicoJson.ParseObject(File.ReadAllText(path));
            settings.pythonPath = map.GetString("pythonPath", settings.pythonPath);
            settings.workingDirectory = map.GetString("workingDirectory", settings.workingDirectory);
            settings.port = (int)map.GetLong("port", settings.port);
            settings.preloadModels = map.GetString("preloadModels", settings.preloadModels);
            settings.autoLaunch = map.GetBool("autoLaunch", settings.autoLaunch);
            settings.readyTimeoutS = (float)map.GetDouble("readyTimeoutS", settings.readyTimeoutS);
            settings.extraArguments = map.GetString("extraArguments", settings.extraArguments);
            settings.bundlePath = map.GetString("bundlePath", settings.bundlePath);
            settings.launchInPlayers = map.GetBool("launchInPlayers", settings.launchInPlayers);
            return settings;
        }

        public void Save(string projectRoot)
        {
            var map = new MsgMap();
            map.Set("pythonPath", pythonPath);
            map.Set("workingDirectory", workingDirectory);
            map.Set("port", port);
            map.Set("preloadModels", preloadModels);
            map.Set("autoLaunch", autoLaunch);
            map.Set("readyTimeoutS", (double)readyTimeoutS);
            map.Set("extraArguments", extraArguments);
            map.Set("bundlePath", bundlePath);
            map.Set("launchInPlayers", launchInPlayers);
            string path = Path.Combine(projectRoot, FileName);
            Directory.CreateDirectory(Path.GetDirectoryName(path));
            File.WriteAllText(path, AtelicoJson.Serialize(map));
        }

        /// <summary>The interpreter to run: a venv folder resolves to its python, relative paths to the project.</summary>
        public string ResolvePython(string projectRoot)
        {
            string path = string.IsNullOrEmpty(pythonPath) ? "python3" : pythonPath;
            bool bare = path.IndexOf('/') < 0 && path.IndexOf('\\') < 0 && !path.StartsWith(".");
            if (bare)
            {
                return path; // looked up on PATH
            }
            if (!Path.IsPathRooted(path))
            {
                path = Path.GetFullPath(Path.Combine(projectRoot, path));
            }
            if (Directory.Exists(path))
            {
                string unix = Path.Combine(Path.Combine(path, "bin"), "python");
                string windows = Path.Combine(Path.Combine(path, "Scripts"), "python.exe");
                return File.Exists(windows) ? windows : unix;
            }
            return path;
        }

        /// <summary>The bundle folder as a full path, or null when none is configured.</summary>
        public string ResolveBundle(string projectRoot)
        {
            if (string.IsNullOrEmpty(bundlePath) || bundlePath.Trim().Length == 0)
            {
                return null;
            }
            return Path.GetFullPath(Path.Combine(projectRoot, bundlePath.Trim()));
        }

        /// <summary>What a player build needs of these settings (written into the shipped bundle).</summary>
        public PlayerLaunchSettings ToLaunchSettings()
        {
            return new PlayerLaunchSettings
            {
                Launch = launchInPlayers,
                Preload = preloadModels ?? "",
                ExtraArguments = extraArguments ?? "",
                Port = port,
                ReadyTimeoutS = readyTimeoutS,
            };
        }

        /// <summary>Launch options for <see cref="SidecarProcess.Start"/>.</summary>
        public SidecarOptions ToOptions(string projectRoot, string logPath)
        {
            var preload = new List<string>();
            foreach (string id in (preloadModels ?? "").Split(','))
            {
                if (id.Trim().Length > 0)
                {
                    preload.Add(id.Trim());
                }
            }
            var extra = new List<string>((extraArguments ?? "").Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries));
            return new SidecarOptions
            {
                PythonPath = ResolvePython(projectRoot),
                WorkingDirectory = string.IsNullOrEmpty(workingDirectory) ? projectRoot : Path.GetFullPath(Path.Combine(projectRoot, workingDirectory)),
                Port = port,
                Preload = preload,
                ExtraArguments = extra,
                LogPath = logPath,
                ReadyTimeout = TimeSpan.FromSeconds(readyTimeoutS),
            };
        }
    }
}
