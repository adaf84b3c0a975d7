// Minimal stand-ins for the UnityEditor API the package's editor assembly uses (compile-time shape,
// plus just enough state for tests: SessionState stores values, playModeStateChanged can be raised).
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

    public static class EditorApplication
    {
        public static event Action<PlayModeStateChange> playModeStateChanged;
        public static event Action quitting;
        public static bool isPlaying;

        public static void RaisePlayModeStateChanged(PlayModeStateChange change)
        {
            var handler = playModeStateChanged;
            if (handler != null)
            {
                handler(change);
            }
        }

        public static void RaiseQuitting()
        {
            var handler = quitting;
            if (handler != null)
            {
                handler();
            }
        }
    }

    public static class SessionState
    {
        private static readonly Dictionary<string, string> Values = new Dictionary<string, string>();

        public static string GetString(string key, string defaultValue)
        {
            string value;
            return Values.TryGetValue(key, out value) ? value : defaultValue;
        }

        public static void SetString(string key, string value)
        {
            Values[key] = value;
        }

        public static int GetInt(string key, int defaultValue)
        {
            string value;
            int parsed;
            return Values.TryGetValue(key, out value) && int.TryParse(value, out parsed) ? parsed : defaultValue;
        }

        public static void SetInt(string key, int value)
        {
            Values[key] = value.ToString();
        }

        public static void EraseString(string key)
        {
            Values.Remove(key);
        }

        public static void EraseInt(string key)
        {
            Values.Remove(key);
        }
    }

    public static class EditorUtility
    {
        public static bool DisplayCancelableProgressBar(string title, string info, float progress)
        {
            return false;
        }

        public static void ClearProgressBar()
        {
        }

        public static bool DisplayDialog(string title, string message, string ok)
        {
            return true;
        }
    }

    public static class EditorGUILayout
    {
        public static string TextField(string label, string text)
        {
            return text;
        }

        public static int IntField(string label, int value)
        {
            return value;
        }

        public static float FloatField(string label, float value)
        {
            return value;
        }

        public static bool Toggle(string label, bool value)
        {
            return value;
        }

        public static void LabelField(string label, string label2)
        {
        }

        public static void HelpBox(string message, MessageType type)
        {
        }

        public static void Space()
        {
        }
    }

    public enum MessageType
    {
        None,
        Info,
        Warning,
        Error,
    }

    public static class EditorGUI
    {
        public static void BeginChangeCheck()
        {
        }

        public static bool EndChangeCheck()
        {
            return false;
        }
    }

    public static class GUILayout
    {
        public static bool Button(string text)
        {
            return false;
        }
    }

    public enum SettingsScope
    {
        User,
        Project,
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
    public sealed class InitializeOnLoadAttribute : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        public MenuItem(string itemName)
        {
        }

        public MenuItem(string itemName, bool isValidateFunction)
        {
        }
    }
}
