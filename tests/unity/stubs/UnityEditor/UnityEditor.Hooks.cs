// Test-only controls of the UnityEditor stand-in (left out of the "strict" profile): the editor loop
// (EditorApplication.update every tick), Play/Stop with Unity's play-mode event order and a domain
// reload in between, the progress bar's state and its Cancel button, menu items.
using System;
using System.Collections.Generic;
using System.Reflection;
using UnityEditor;
using UnityEngine;

namespace UnityStandIn.EditorLoop
{
    public static class EditorSim
    {
        private static bool _hooked;

        /// <summary>Edit mode, empty scene, empty SessionState, no handlers but those of a fresh domain.</summary>
        public static void Reset()
        {
            PlayerLoop.Reset(false);
            EditorApplication.playingFlag = false;
            EditorApplication.requestedPlaying = null;
            EditorUtility.progressVisible = false;
            EditorUtility.cancelPressed = false;
            EditorUtility.progressUpdates = 0;
            SessionState.Clear();
            if (!_hooked)
            {
                _hooked = true;
                PlayerLoop.BeforeFrame += EditorTick;
            }
        }

        /// <summary>One editor tick: EditorApplication.update and delayCall, a pending play-mode change,
        /// then (in play mode) one player-loop frame.</summary>
        public static void Tick(float deltaTime = 1f / 60f)
        {
            PlayerLoop.Frame(deltaTime);
        }

        /// <summary>Ticks with a short sleep until <paramref name="until"/> holds or the time is up.</summary>
        public static bool TickUntil(Func<bool> until, double seconds, int frameMs = 10)
        {
            return PlayerLoop.RunUntil(until, seconds, frameMs);
        }

        private static void EditorTick()
        {
            var update = EditorApplication.update;
            if (update != null)
            {
                update();
            }
            var delay = EditorApplication.delayCall;
            EditorApplication.delayCall = null;
            if (delay != null)
            {
                delay();
            }
            bool? request = EditorApplication.requestedPlaying;
            if (request.HasValue)
            {
                EditorApplication.requestedPlaying = null;
                if (request.Value && !EditorApplication.playingFlag)
                {
                    PressPlay();
                }
                else if (!request.Value && EditorApplication.playingFlag)
                {
                    PressStop();
                }
            }
        }

        /// <summary>The user pressed Play: ExitingEditMode (a handler may cancel by setting isPlaying = false),
        /// domain reload, Awake/OnEnable of the scene, EnteredPlayMode. False when a handler cancelled.</summary>
        public static bool PressPlay()
        {
            if (EditorApplication.playingFlag)
            {
                return true;
            }
            EditorApplication.requestedPlaying = true;
            Raise(PlayModeStateChange.ExitingEditMode);
            if (EditorApplication.requestedPlaying == false)
            {
                EditorApplication.requestedPlaying = null;
                Raise(PlayModeStateChange.EnteredEditMode);
                return false;
            }
            EditorApplication.requestedPlaying = null;
            DomainReload();
            EditorApplication.playingFlag = true;
            PlayerLoop.EnterPlayMode();
            Raise(PlayModeStateChange.EnteredPlayMode);
            return true;
        }

        /// <summary>The user pressed Stop: ExitingPlayMode, the scene is destroyed, domain reload, EnteredEditMode.</summary>
        public static void PressStop()
        {
            if (!EditorApplication.playingFlag)
            {
                return;
            }
            Raise(PlayModeStateChange.ExitingPlayMode);
            PlayerLoop.ExitPlayMode();
            EditorApplication.playingFlag = false;
            DomainReload();
            Raise(PlayModeStateChange.EnteredEditMode);
        }

        public static void Quit()
        {
            var handlers = EditorApplication.quittingHandlers;
            if (handlers != null)
            {
                handlers();
            }
        }

        private static void Raise(PlayModeStateChange change)
        {
            var handlers = EditorApplication.playModeHandlers;
            if (handlers != null)
            {
                handlers(change);
            }
        }

        /// <summary>
        /// Like a script reload: editor callbacks are dropped, every static field of the package's assemblies
        /// (Atelico.Audio*, tests excluded) is reset and its static constructor runs again, so
        /// [InitializeOnLoad] classes re-register. What survives: SessionState, environment variables, processes.
        /// </summary>
        public static void DomainReload()
        {
            EditorApplication.update = null;
            EditorApplication.delayCall = null;
            EditorApplication.playModeHandlers = null;
            EditorApplication.quittingHandlers = null;
            Reloads++;
            // Unity loads every assembly of the project; here they sit beside this one.
            string folder = System.IO.Path.GetDirectoryName(typeof(EditorSim).Assembly.Location);
            foreach (string file in System.IO.Directory.GetFiles(folder, "Atelico.Audio*.dll"))
            {
                if (!file.Contains("Tests"))
                {
                    Assembly.Load(System.IO.Path.GetFileNameWithoutExtension(file));
                }
            }
            var initializeOnLoad = new List<Type>();
            foreach (Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                string name = assembly.GetName().Name;
                if (!name.StartsWith("Atelico.Audio") || name.Contains("Tests"))
                {
                    continue;
                }
                foreach (Type type in assembly.GetTypes())
                {
                    if (type.IsGenericTypeDefinition || type.ContainsGenericParameters)
                    {
                        continue;
                    }
                    foreach (FieldInfo field in type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    {
                        if (!field.IsLiteral)
                        {
                            field.SetValue(null, field.FieldType.IsValueType ? Activator.CreateInstance(field.FieldType) : null);
                        }
                    }
                    if (type.GetCustomAttributes(typeof(InitializeOnLoadAttribute), false).Length > 0)
                    {
                        initializeOnLoad.Add(type);
                    }
                    else if (type.TypeInitializer != null)
                    {
                        type.TypeInitializer.Invoke(null, null);
                    }
                }
            }
            foreach (Type type in initializeOnLoad)
            {
                if (type.TypeInitializer != null)
                {
                    type.TypeInitializer.Invoke(null, null);
                }
            }
        }

        public static int Reloads { get; private set; }

        /// <summary>Run a [MenuItem] method by its path (e.g. "Tools/Atelico/Start Sidecar").</summary>
        public static void Menu(string path)
        {
            foreach (Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                if (!assembly.GetName().Name.StartsWith("Atelico.Audio"))
                {
                    continue;
                }
                foreach (Type type in assembly.GetTypes())
                {
                    foreach (MethodInfo method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                    {
                        foreach (MenuItem item in method.GetCustomAttributes(typeof(MenuItem), false))
                        {
                            if (item.menuItem == path && !item.validate)
                            {
                                method.Invoke(null, null);
                                return;
                            }
                        }
                    }
                }
            }
            throw new ArgumentException("no menu item " + path);
        }
    }

    /// <summary>The modal progress bar: what it shows, and the Cancel button.</summary>
    public static class ProgressBar
    {
        public static bool Visible { get { return EditorUtility.progressVisible; } }
        public static string Title { get { return EditorUtility.progressTitle; } }
        public static string Info { get { return EditorUtility.progressInfo; } }
        public static float Progress { get { return EditorUtility.progressValue; } }
        public static int Updates { get { return EditorUtility.progressUpdates; } }

        /// <summary>The user presses Cancel: the next DisplayCancelableProgressBar returns true.</summary>
        public static void PressCancel()
        {
            EditorUtility.cancelPressed = true;
        }
    }
}

namespace UnityStandIn.Build
{
    using UnityEditor;
    using UnityEditor.Build;
    using UnityEditor.Build.Reporting;

    /// <summary>A player build as Unity's pipeline runs it: every IPreprocessBuildWithReport of the
    /// package's assemblies, the player written, then every IPostprocessBuildWithReport, in callbackOrder.</summary>
    public static class BuildSim
    {
        public static BuildReport Report(BuildTarget target, string outputPath)
        {
            var report = new BuildReport();
            report.summaryValue.platformValue = target;
            report.summaryValue.outputPathValue = outputPath;
            return report;
        }

        /// <summary>Runs the package's build callbacks around <paramref name="writePlayer"/> (which writes the
        /// fake player files). A BuildFailedException from a callback propagates: the build failed.</summary>
        public static void Build(BuildTarget target, string outputPath, Action writePlayer)
        {
            BuildReport report = Report(target, outputPath);
            foreach (IPreprocessBuildWithReport step in Callbacks<IPreprocessBuildWithReport>())
            {
                step.OnPreprocessBuild(report);
            }
            writePlayer();
            foreach (IPostprocessBuildWithReport step in Callbacks<IPostprocessBuildWithReport>())
            {
                step.OnPostprocessBuild(report);
            }
        }

        private static List<T> Callbacks<T>() where T : IOrderedCallback
        {
            var found = new List<T>();
            foreach (Type type in UnityStandIn.PlayerSim.PackageTypes())
            {
                if (!type.IsAbstract && !type.IsInterface && typeof(T).IsAssignableFrom(type))
                {
                    found.Add((T)Activator.CreateInstance(type));
                }
            }
            found.Sort((a, b) => a.callbackOrder.CompareTo(b.callbackOrder));
            return found;
        }
    }
}

