// Launches the sidecar when entering play mode and stops it when leaving; the Tools/Atelico menu.
using UnityEditor;
using UnityEngine;

namespace Atelico.Audio.Editor
{
    /// <summary>
    /// Hooks <see cref="EditorApplication.playModeStateChanged"/> and editor quit. Pressing Play with
    /// auto-launch on and no ready sidecar cancels entering play mode (<c>isPlaying = false</c> while
    /// ExitingEditMode is raised), starts the sidecar without blocking the editor (progress bar with
    /// Cancel, polled in <see cref="EditorApplication.update"/>), and enters play mode once it is ready,
    /// so the game's first frame already has <c>ATELICO_URL</c>. Leaving play mode stops the sidecar.
    /// </summary>
    [InitializeOnLoad]
    public static class SidecarPlayMode
    {
        private const string PlaySessionKey = "Atelico.Sidecar.ForPlayMode";

        static SidecarPlayMode()
        {
            EditorApplication.playModeStateChanged += OnPlayModeStateChanged;
            EditorApplication.quitting += SidecarController.StopAndWait;
        }

        internal static void OnPlayModeStateChanged(PlayModeStateChange change)
        {
            var settings = AtelicoSettings.Load(SidecarController.ProjectRoot);
            if (!settings.autoLaunch)
            {
                return;
            }
            if (change == PlayModeStateChange.ExitingEditMode)
            {
                if (SidecarController.IsReady)
                {
                    SessionState.SetBool(PlaySessionKey, true);
                    return; // enter play mode now
                }
                EditorApplication.isPlaying = false; // wait for the sidecar, without blocking the editor
                SidecarController.Begin(settings, SidecarController.ProjectRoot, true, ready =>
                {
                    if (ready)
                    {
                        SessionState.SetBool(PlaySessionKey, true);
                        EditorApplication.isPlaying = true;
                    }
                });
            }
            else if (change == PlayModeStateChange.EnteredEditMode && SessionState.GetBool(PlaySessionKey, false))
            {
                SessionState.EraseBool(PlaySessionKey);
                SidecarController.Stop();
            }
        }

        [MenuItem("Tools/Atelico/Start Sidecar")]
        private static void StartMenu()
        {
            SidecarController.Begin(AtelicoSettings.Load(SidecarController.ProjectRoot), SidecarController.ProjectRoot, true, null);
        }

        [MenuItem("Tools/Atelico/Stop Sidecar")]
        private static void StopMenu()
        {
            SidecarController.Stop();
        }

        [MenuItem("Tools/Atelico/Check Sidecar")]
        private static void CheckMenu()
        {
            Debug.Log(SidecarController.Describe());
        }
    }

    /// <summary>Project Settings > Atelico Audio.</summary>
    public sealed class AtelicoSettingsProvider : SettingsProvider
    {
        private AtelicoSettings _settings;

        public AtelicoSettingsProvider() : base("Project/Atelico Audio", SettingsScope.Project)
        {
        }

        [SettingsProvider]
        public static SettingsProvider Create()
        {
            return new AtelicoSettingsProvider();
        }

        public override void OnGUI(string searchContext)
        {
            string root = SidecarController.ProjectRoot;
            if (_settings == null)
            {
                _settings = AtelicoSettings.Load(root);
            }
            EditorGUI.BeginChangeCheck();
            _settings.pythonPath = EditorGUILayout.TextField("Python (or venv folder)", _settings.pythonPath);
            _settings.workingDirectory = EditorGUILayout.TextField("Working directory", _settings.workingDirectory);
            _settings.port = EditorGUILayout.IntField("Port (0 = any free)", _settings.port);
            _settings.preloadModels = EditorGUILayout.TextField("Models to preload", _settings.preloadModels);
            _settings.autoLaunch = EditorGUILayout.Toggle("Launch in play mode", _settings.autoLaunch);
            _settings.readyTimeoutS = EditorGUILayout.FloatField("Ready timeout (s)", _settings.readyTimeoutS);
            _settings.extraArguments = EditorGUILayout.TextField("Extra arguments", _settings.extraArguments);
            _settings.bundlePath = EditorGUILayout.TextField("Sidecar bundle (players)", _settings.bundlePath);
            _settings.launchInPlayers = EditorGUILayout.Toggle("Launch in players", _settings.launchInPlayers);
            if (EditorGUI.EndChangeCheck())
            {
                _settings.Save(root);
            }
            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Python", _settings.ResolvePython(root));
            string bundle = _settings.ResolveBundle(root);
            EditorGUILayout.LabelField("Bundle", bundle == null ? "none: players carry no sidecar" : bundle + (System.IO.Directory.Exists(bundle) ? "" : " (missing: run `atelico bundle`)"));
            EditorGUILayout.LabelField("Status", SidecarController.Describe());
            if (GUILayout.Button("Start"))
            {
                SidecarController.Begin(_settings, root, true, null);
            }
            if (GUILayout.Button("Stop"))
            {
                SidecarController.Stop();
            }
        }
    }
}
