// Launches the sidecar when entering play mode and stops it when leaving; the Tools/Atelico menu.
using System;
using UnityEditor;
using UnityEngine;

namespace Atelico.Audio.Editor
{
    /// <summary>Hooks <see cref="EditorApplication.playModeStateChanged"/> and editor quit.</summary>
    [InitializeOnLoad]
    public static class SidecarPlayMode
    {
        static SidecarPlayMode()
        {
            EditorApplication.playModeStateChanged += OnPlayModeStateChanged;
            EditorApplication.quitting += SidecarController.Stop;
        }

        internal static void OnPlayModeStateChanged(PlayModeStateChange change)
        {
            var settings = AtelicoSettings.Load(SidecarController.ProjectRoot);
            if (change == PlayModeStateChange.ExitingEditMode && settings.autoLaunch)
            {
                try
                {
                    SidecarController.Start(settings, SidecarController.ProjectRoot,
                        (text, progress) => EditorUtility.DisplayCancelableProgressBar("Atelico", text, progress));
                }
                finally
                {
                    EditorUtility.ClearProgressBar();
                }
            }
            else if (change == PlayModeStateChange.EnteredEditMode && settings.autoLaunch)
            {
                SidecarController.Stop();
            }
        }

        [MenuItem("Tools/Atelico/Start Sidecar")]
        private static void StartMenu()
        {
            try
            {
                SidecarController.Start(AtelicoSettings.Load(SidecarController.ProjectRoot), SidecarController.ProjectRoot,
                    (text, progress) => EditorUtility.DisplayCancelableProgressBar("Atelico", text, progress));
            }
            finally
            {
                EditorUtility.ClearProgressBar();
            }
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
            if (EditorGUI.EndChangeCheck())
            {
                _settings.Save(root);
            }
            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Python", _settings.ResolvePython(root));
            EditorGUILayout.LabelField("Status", SidecarController.Describe());
            if (GUILayout.Button("Start"))
            {
                SidecarController.Start(_settings, root, null);
            }
            if (GUILayout.Button("Stop"))
            {
                SidecarController.Stop();
            }
        }
    }
}
