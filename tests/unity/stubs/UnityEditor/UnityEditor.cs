// Stand-ins for the UnityEditor API the package's editor assembly uses, with the editor's behaviour
// where it matters: editor APIs (progress bar, SessionState, isPlaying) are main-thread only and throw
// UnityException elsewhere; EditorApplication.update is a CallbackFunction field the editor loop
// invokes; setting isPlaying = false while ExitingEditMode is raised cancels entering play mode.
// Public members must exist in Unity (tests/unity/api/unity-api.txt); test hooks are in *.Hooks.cs.
using System;
using System.Collections.Generic;
using UnityEngine;

namespace UnityEditor
{
    public enum PlayModeStateChange
    {
        EnteredEditMode,
        ExitingEditMode,
        EnteredPlayMode,
        ExitingPlayMode,
    }

    public sealed class EditorApplication
    {
        public delegate void CallbackFunction();

        /// <summary>Invoked by the editor loop on the main thread, in edit and play mode.</summary>
        public static CallbackFunction update;

        public static CallbackFunction delayCall;

        internal static Action<PlayModeStateChange> playModeHandlers;
        internal static Action quittingHandlers;
        internal static bool playingFlag;
        internal static bool? requestedPlaying;

        public static event Action<PlayModeStateChange> playModeStateChanged
        {
            add { playModeHandlers += value; }
            remove { playModeHandlers -= value; }
        }

        public static event Action quitting
        {
            add { quittingHandlers += value; }
            remove { quittingHandlers -= value; }
        }

        /// <summary>Setting it requests a play-mode change, carried out by the editor loop (not at once).</summary>
        public static bool isPlaying
        {
            get
            {
                EngineThreadAccess.Check("get_isPlaying");
                return playingFlag;
            }
            set
            {
                EngineThreadAccess.Check("set_isPlaying");
                requestedPlaying = value;
            }
        }

        public static bool isPlayingOrWillChangePlaymode
        {
            get
            {
                EngineThreadAccess.Check("get_isPlayingOrWillChangePlaymode");
                return playingFlag || requestedPlaying == true;
            }
        }
    }

    internal static class EngineThreadAccess
    {
        internal static void Check(string api)
        {
            UnityEngine.EngineThread.Check(api);
        }
    }

    public class SessionState
    {
        private static readonly Dictionary<string, string> Values = new Dictionary<string, string>();

        public static string GetString(string key, string defaultValue)
        {
            EngineThreadAccess.Check("GetString");
            string value;
            return Values.TryGetValue("s:" + key, out value) ? value : defaultValue;
        }

        public static void SetString(string key, string value)
        {
            EngineThreadAccess.Check("SetString");
            Values["s:" + key] = value;
        }

        public static void EraseString(string key)
        {
            EngineThreadAccess.Check("EraseString");
            Values.Remove("s:" + key);
        }

        public static int GetInt(string key, int defaultValue)
        {
            EngineThreadAccess.Check("GetInt");
            string value;
            return Values.TryGetValue("i:" + key, out value) ? int.Parse(value) : defaultValue;
        }

        public static void SetInt(string key, int value)
        {
            EngineThreadAccess.Check("SetInt");
            Values["i:" + key] = value.ToString();
        }

        public static void EraseInt(string key)
        {
            EngineThreadAccess.Check("EraseInt");
            Values.Remove("i:" + key);
        }

        public static bool GetBool(string key, bool defaultValue)
        {
            EngineThreadAccess.Check("GetBool");
            string value;
            return Values.TryGetValue("b:" + key, out value) ? value == "1" : defaultValue;
        }

        public static void SetBool(string key, bool value)
        {
            EngineThreadAccess.Check("SetBool");
            Values["b:" + key] = value ? "1" : "0";
        }

        public static void EraseBool(string key)
        {
            EngineThreadAccess.Check("EraseBool");
            Values.Remove("b:" + key);
        }

        internal static void Clear()
        {
            Values.Clear();
        }
    }

    public sealed class EditorUtility
    {
        internal static bool progressVisible;
        internal static string progressTitle;
        internal static string progressInfo;
        internal static float progressValue;
        internal static int progressUpdates;
        internal static bool cancelPressed;

        /// <summary>Main thread only (Unity throws elsewhere); true once the user pressed Cancel.</summary>
        public static bool DisplayCancelableProgressBar(string title, string info, float progress)
        {
            EngineThreadAccess.Check("DisplayCancelableProgressBar");
            progressVisible = true;
            progressTitle = title;
            progressInfo = info;
            progressValue = progress;
            progressUpdates++;
            return cancelPressed;
        }

        public static void ClearProgressBar()
        {
            EngineThreadAccess.Check("ClearProgressBar");
            progressVisible = false;
            cancelPressed = false;
        }

        public static bool DisplayDialog(string title, string message, string ok)
        {
            EngineThreadAccess.Check("DisplayDialog");
            return true;
        }
    }

    public sealed class EditorGUILayout
    {
        public static string TextField(string label, string text, params GUILayoutOption[] options)
        {
            EngineThreadAccess.Check("TextField");
            return text;
        }

        public static int IntField(string label, int value, params GUILayoutOption[] options)
        {
            EngineThreadAccess.Check("IntField");
            return value;
        }

        public static float FloatField(string label, float value, params GUILayoutOption[] options)
        {
            EngineThreadAccess.Check("FloatField");
            return value;
        }

        public static bool Toggle(string label, bool value, params GUILayoutOption[] options)
        {
            EngineThreadAccess.Check("Toggle");
            return value;
        }

        public static void LabelField(string label, string label2, params GUILayoutOption[] options)
        {
            EngineThreadAccess.Check("LabelField");
        }

        public static void HelpBox(string message, MessageType type)
        {
            EngineThreadAccess.Check("HelpBox");
        }

        public static void Space()
        {
            EngineThreadAccess.Check("Space");
        }
    }

    public enum MessageType
    {
        None,
        Info,
        Warning,
        Error,
    }

    public sealed class EditorGUI
    {
        public static void BeginChangeCheck()
        {
            EngineThreadAccess.Check("BeginChangeCheck");
        }

        public static bool EndChangeCheck()
        {
            EngineThreadAccess.Check("EndChangeCheck");
            return false;
        }
    }

    [Flags]
    public enum SettingsScope
    {
        User = 1,
        Project = 2,
    }

    public class SettingsProvider
    {
        public SettingsProvider(string path, SettingsScope scopes, IEnumerable<string> keywords = null)
        {
            settingsPath = path;
        }

        public string settingsPath { get; private set; }

        public string label { get; set; }

        public virtual void OnGUI(string searchContext)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class SettingsProviderAttribute : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Class)]
    public class InitializeOnLoadAttribute : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        public string menuItem;
        public bool validate;

        public MenuItem(string itemName) : this(itemName, false)
        {
        }

        public MenuItem(string itemName, bool isValidateFunction)
        {
            menuItem = itemName;
            validate = isValidateFunction;
        }
    }
}

namespace UnityEditor
{
    /// <summary>The build targets the package tells apart (values as in Unity).</summary>
    public enum BuildTarget
    {
        StandaloneOSX = 2,
        StandaloneWindows = 5,
        iOS = 9,
        Android = 13,
        StandaloneWindows64 = 19,
        WebGL = 20,
        StandaloneLinux64 = 24,
    }
}

namespace UnityEditor.Build
{
    using UnityEditor.Build.Reporting;

    public interface IOrderedCallback
    {
        int callbackOrder { get; }
    }

    /// <summary>Called before a player build starts; a BuildFailedException fails the build.</summary>
    public interface IPreprocessBuildWithReport : IOrderedCallback
    {
        void OnPreprocessBuild(BuildReport report);
    }

    /// <summary>Called once the player is written; a BuildFailedException fails the build.</summary>
    public interface IPostprocessBuildWithReport : IOrderedCallback
    {
        void OnPostprocessBuild(BuildReport report);
    }

    public class BuildFailedException : Exception
    {
        public BuildFailedException(string message) : base(message)
        {
        }

        public BuildFailedException(Exception innerException) : base(null, innerException)
        {
        }
    }
}

namespace UnityEditor.Build.Reporting
{
    /// <summary>What a build was for and where it went (Unity's has more; only the build pipeline makes one).</summary>
    public struct BuildSummary
    {
        internal BuildTarget platformValue;
        internal string outputPathValue;

        public BuildTarget platform { get { return platformValue; } }

        /// <summary>As given to BuildPipeline.BuildPlayer: the executable, or a macOS .app.</summary>
        public string outputPath { get { return outputPathValue; } }
    }

    public sealed class BuildReport : UnityEngine.Object
    {
        internal BuildSummary summaryValue;

        internal BuildReport()
        {
        }

        public BuildSummary summary { get { return summaryValue; } }
    }
}

