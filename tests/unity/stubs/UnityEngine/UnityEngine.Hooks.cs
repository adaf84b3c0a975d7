// Test-only controls of the UnityEngine stand-in (left out of the "strict" profile the package's own
// Tests compile against): drive the player loop, the audio thread and the microphone, read the console.
using System;
using System.Collections.Generic;
using System.Reflection;
using System.Threading;
using UnityEngine;

namespace UnityStandIn
{
    /// <summary>The player loop: frames, play mode, the main thread.</summary>
    public static class PlayerLoop
    {
        /// <summary>Runs at the start of every frame (the editor stand-in hooks EditorApplication.update here).</summary>
        public static event Action BeforeFrame;

        /// <summary>Make the calling thread Unity's main thread.</summary>
        public static void BindMainThread()
        {
            EngineThread.Bind();
        }

        public static bool IsPlaying
        {
            get { return Application.playing; }
        }

        /// <summary>Fresh scene, console and clock; play mode on (like a PlayMode test); this thread is the main thread.</summary>
        public static void Reset(bool playing = true)
        {
            EngineThread.Bind();
            Scene.Unload();
            Application.playing = playing;
            Time.timeValue = 0f;
            Time.frameCountValue = 0;
            UnityConsole.Clear();
            GUILayout.Clicks.Clear();
            GUILayout.Drawn.Clear();
            Microphone.recording = false;
            Microphone.available = true;
            Microphone.position = 0;
        }

        /// <summary>One frame: BeforeFrame hooks, Time advances by <paramref name="deltaTime"/>, Start/Update/LateUpdate, destroys.</summary>
        public static void Frame(float deltaTime = 1f / 60f)
        {
            EngineThread.Check("PlayerLoop");
            Time.deltaTimeValue = deltaTime;
            Time.timeValue += deltaTime;
            Time.frameCountValue++;
            var hooks = BeforeFrame;
            if (hooks != null)
            {
                hooks();
            }
            if (Application.playing)
            {
                Scene.Frame();
            }
            else
            {
                Scene.FlushDestroys();
            }
        }

        /// <summary>Run frames (sleeping <paramref name="frameMs"/> between them, like a running game) until
        /// <paramref name="until"/> holds or <paramref name="seconds"/> pass; returns whether it held.</summary>
        public static bool RunUntil(Func<bool> until, double seconds, int frameMs = 5)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (!until())
            {
                if (DateTime.UtcNow > deadline)
                {
                    return false;
                }
                Frame(Math.Max(1, frameMs) / 1000f);
                Thread.Sleep(frameMs);
            }
            return true;
        }

        /// <summary>Play mode begins: objects already in the scene get Awake/OnEnable; Start on the next frame.</summary>
        public static void EnterPlayMode()
        {
            Application.playing = true;
            Scene.AwakenAll();
        }

        /// <summary>Play mode ends: every object gets OnDisable/OnDestroy and the scene is empty.</summary>
        public static void ExitPlayMode()
        {
            Scene.Unload();
            Application.playing = false;
        }

        /// <summary>Deliver a message now, like Unity's SendMessage (for lifecycle steps a test wants alone).</summary>
        public static void Send(MonoBehaviour behaviour, string message)
        {
            Scene.Send(behaviour, message);
        }

        public static int LiveObjects { get { return Scene.Objects.Count; } }
    }

    /// <summary>What reached Unity's console, as "log: …", "warning: …", "error: …", "exception: …".</summary>
    public static class UnityConsole
    {
        public static List<string> Messages
        {
            get
            {
                lock (Debug.Gate)
                {
                    var result = new List<string>();
                    foreach (var entry in Debug.Console)
                    {
                        result.Add(Prefix(entry.Key) + entry.Value);
                    }
                    return result;
                }
            }
        }

        public static List<string> Errors
        {
            get { return Messages.FindAll(m => m.StartsWith("error: ") || m.StartsWith("exception: ")); }
        }

        public static void Clear()
        {
            lock (Debug.Gate)
            {
                Debug.Console.Clear();
            }
        }

        public static string Dump()
        {
            return string.Join("\n", Messages.ToArray());
        }

        private static string Prefix(LogType type)
        {
            switch (type)
            {
                case LogType.Log:
                    return "log: ";
                case LogType.Warning:
                    return "warning: ";
                case LogType.Exception:
                    return "exception: ";
                default:
                    return "error: ";
            }
        }
    }

    /// <summary>The audio thread: real-time output (default) or rendered in steps the test chooses.</summary>
    public static class AudioThread
    {
        public const int BlockFrames = AudioEngine.BlockFrames;

        /// <summary>False: output advances only in <see cref="Render"/> (still on the audio thread).</summary>
        public static bool Realtime
        {
            get { return AudioEngine.Realtime; }
            set
            {
                AudioEngine.Realtime = value;
                AudioEngine.Kick();
            }
        }

        public static int OutputRate
        {
            get { return AudioEngine.OutputRate; }
            set { AudioEngine.OutputRate = value; }
        }

        public static int ReadAheadBlocks
        {
            get { return AudioEngine.ReadAheadBlocks; }
            set { AudioEngine.ReadAheadBlocks = value; }
        }

        /// <summary>Render <paramref name="outputFrames"/> frames on the audio thread and wait for it.</summary>
        public static void Render(int outputFrames)
        {
            AudioEngine.Step(outputFrames);
        }

        /// <summary>What the listener heard from this source since Play (mono mix).</summary>
        public static float[] Heard(AudioSource source)
        {
            lock (AudioEngine.Gate)
            {
                return source.voice.Heard.ToArray();
            }
        }

        public static int ReaderCalls(AudioSource source)
        {
            lock (AudioEngine.Gate)
            {
                return source.voice.ReaderCalls;
            }
        }

        /// <summary>The largest data.Length the PCMReaderCallback was given.</summary>
        public static int LargestRead(AudioSource source)
        {
            lock (AudioEngine.Gate)
            {
                return source.voice.LargestRead;
            }
        }

        /// <summary>Frames handed to the reader but not yet heard.</summary>
        public static long DecodedAhead(AudioSource source)
        {
            lock (AudioEngine.Gate)
            {
                return source.voice.FramesDecoded - source.voice.FramesOut;
            }
        }

        /// <summary>Threads the PCMReaderCallback ran on.</summary>
        public static int[] ReaderThreads(AudioSource source)
        {
            lock (AudioEngine.Gate)
            {
                return new List<int>(source.voice.ReaderThreads).ToArray();
            }
        }

        public static int AudioThreadId { get { return AudioEngine.AudioThreadId; } }
    }

    /// <summary>The microphone device: feeds samples into the recording clip and moves its write head.</summary>
    public static class Mic
    {
        public static bool Available
        {
            get { return Microphone.available; }
            set { Microphone.available = value; }
        }

        public static void Feed(float[] samples)
        {
            AudioClip clip = Microphone.clip;
            if (clip == null || !Microphone.recording)
            {
                throw new InvalidOperationException("the microphone is not recording");
            }
            clip.WriteWrapped(samples, Microphone.position);
            Microphone.position = (Microphone.position + samples.Length) % clip.Samples;
        }
    }

    /// <summary>IMGUI: make the next GUILayout.Button(text) report a click; see what was drawn.</summary>
    public static class Gui
    {
        public static void Click(string button)
        {
            GUILayout.Clicks.Add(button);
        }

        public static List<string> Drawn { get { return GUILayout.Drawn; } }
    }

    /// <summary>An exported player instead of the editor: its platform and folders, the start-up
    /// [RuntimeInitializeOnLoadMethod] calls Unity makes, and quitting.</summary>
    public static class PlayerSim
    {
        /// <summary>Become a <paramref name="platform"/> player whose Application.dataPath is
        /// <paramref name="dataPath"/>, then call every BeforeSceneLoad method of the package's assemblies
        /// (tests excluded), as a player does before its first scene.</summary>
        public static void Boot(RuntimePlatform platform, string dataPath, string persistentDataPath)
        {
            EngineThread.Bind();
            Application.editor = false;
            Application.platformValue = platform;
            Application.dataPathValue = dataPath;
            Application.persistentDataPathValue = persistentDataPath;
            foreach (Type type in PackageTypes())
            {
                foreach (MethodInfo method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    foreach (RuntimeInitializeOnLoadMethodAttribute attribute in method.GetCustomAttributes(typeof(RuntimeInitializeOnLoadMethodAttribute), false))
                    {
                        if (attribute.loadType == RuntimeInitializeLoadType.BeforeSceneLoad)
                        {
                            method.Invoke(null, null);
                        }
                    }
                }
            }
        }

        /// <summary>Every type of the package's loaded assemblies (Atelico.Audio*, tests excluded): what
        /// Unity scans for start-up methods and build callbacks.</summary>
        public static List<Type> PackageTypes()
        {
            var types = new List<Type>();
            foreach (Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                string name = assembly.GetName().Name;
                if (name.StartsWith("Atelico.Audio") && !name.Contains("Tests"))
                {
                    types.AddRange(assembly.GetTypes());
                }
            }
            return types;
        }

        /// <summary>The player quits: Application.quitting is raised (once, like Unity).</summary>
        public static void Quit()
        {
            Action handlers = Application.quittingHandlers;
            if (handlers != null)
            {
                handlers();
            }
        }

        /// <summary>Back to the editor (the default state), quitting handlers dropped.</summary>
        public static void Reset()
        {
            Application.editor = true;
            Application.platformValue = RuntimePlatform.LinuxEditor;
            Application.quittingHandlers = null;
        }
    }
}
