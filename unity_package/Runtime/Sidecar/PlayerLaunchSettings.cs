// How an exported player launches its bundled sidecar: written by the editor's build step, read by the player.
using System;
using System.Collections.Generic;
using System.IO;
using Atelico.Audio.Protocol;

namespace Atelico.Audio.Sidecar
{
    /// <summary>
    /// The project's sidecar settings a player needs (the editor's ProjectSettings/ are not in a build):
    /// saved as <c>atelico-launch.json</c> inside the copied bundle folder by the build step. A bundle
    /// copied in by hand has none: the defaults launch it with the sidecar's own preload list.
    /// </summary>
    public sealed class PlayerLaunchSettings
    {
        /// <summary>Launch the bundled sidecar when the player starts.</summary>
        public bool Launch = true;

        /// <summary>Comma-separated model ids for <c>--preload</c>; null keeps the sidecar's default.</summary>
        public string Preload;

        /// <summary>Extra arguments for <c>serve</c>, space-separated.</summary>
        public string ExtraArguments = "";

        /// <summary>TCP port; 0 picks a free one at launch.</summary>
        public int Port;

        /// <summary>Bound on the <c>/health/ready</c> wait, in seconds.</summary>
        public double ReadyTimeoutS = 120;

        /// <summary>The settings in <paramref name="bundleFolder"/>, or the defaults when it has none.
        /// Throws <c>bundle.invalid</c> when the file is not a JSON object.</summary>
        public static PlayerLaunchSettings Load(string bundleFolder)
        {
            var settings = new PlayerLaunchSettings();
            string path = Path.Combine(bundleFolder, SidecarBundle.LaunchSettingsName);
            if (!File.Exists(path))
            {
                return settings;
            }
            MsgMap map;
            try
            {
                map = AtelicoJson.ParseObject(File.ReadAllText(path));
            }
            catch (Exception exc)
            {
                throw new AtelicoException(SidecarBundle.Invalid, path + " cannot be read: " + exc.Message);
            }
            settings.Launch = map.GetBool("launch", settings.Launch);
            settings.Preload = map.ContainsKey("preload") ? map.GetString("preload") : null;
            settings.ExtraArguments = map.GetString("extra_arguments", settings.ExtraArguments);
            settings.Port = (int)map.GetLong("port", settings.Port);
            settings.ReadyTimeoutS = map.GetDouble("ready_timeout_s", settings.ReadyTimeoutS);
            return settings;
        }

        /// <summary>Write <c>atelico-launch.json</c> into <paramref name="bundleFolder"/>.</summary>
        public void Save(string bundleFolder)
        {
            var map = new MsgMap();
            map.Set("launch", Launch);
            if (Preload != null)
            {
                map.Set("preload", Preload);
            }
            map.Set("extra_arguments", ExtraArguments ?? "");
            map.Set("port", Port);
            map.Set("ready_timeout_s", ReadyTimeoutS);
            File.WriteAllText(Path.Combine(bundleFolder, SidecarBundle.LaunchSettingsName), AtelicoJson.Serialize(map));
        }

        /// <summary>Launch options for <paramref name="program"/>: the bundle executable (<paramref name="bundled"/>,
        /// run in its own folder) or a Python interpreter.</summary>
        public SidecarOptions ToOptions(string program, bool bundled, string logPath)
        {
            IList<string> preload = null;
            if (Preload != null)
            {
                var ids = new List<string>();
                foreach (string id in Preload.Split(','))
                {
                    if (id.Trim().Length > 0)
                    {
                        ids.Add(id.Trim());
                    }
                }
                preload = ids;
            }
            return new SidecarOptions
            {
                PythonPath = program,
                Bundled = bundled,
                WorkingDirectory = bundled ? Path.GetDirectoryName(program) : null,
                Port = Port,
                Preload = preload,
                ExtraArguments = new List<string>((ExtraArguments ?? "").Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries)),
                LogPath = logPath,
                ReadyTimeout = TimeSpan.FromSeconds(ReadyTimeoutS),
            };
        }
    }
}
