// Sample: text in, voice and a moving face out (speak -> gap-free playback + ARKit blend shapes).
using Atelico.Audio;
using UnityEngine;

namespace Atelico.Audio.Samples
{
    /// <summary>
    /// Put this on a character with an AudioSource, an <see cref="AtelicoStreamPlayer"/> and an
    /// <see cref="AtelicoFaceDriver"/> whose target is the head's SkinnedMeshRenderer (ARKit blend
    /// shapes). Call <see cref="Say"/> (or tick <see cref="sayOnStart"/>): audio chunks start playing
    /// as soon as the first sentence is synthesized while the face follows the audio clock.
    /// </summary>
    [RequireComponent(typeof(AtelicoStreamPlayer))]
    public sealed class VoicedNPC : MonoBehaviour
    {
        [TextArea(2, 6)]
        [SerializeField] private string line = "Welcome, traveller. The road north is closed, but the inn has a warm fire tonight.";
        [SerializeField] private string voice = "af_heart";
        [Tooltip("Face style: claire, james or mark.")]
        [SerializeField] private string character = "claire";
        [SerializeField] private bool sayOnStart = true;
        [SerializeField] private AtelicoFaceDriver face;

        private AtelicoStreamPlayer _player;
        private AtelicoRequest _current;

        private void OnEnable()
        {
            _player = GetComponent<AtelicoStreamPlayer>();
        }

        private void Start()
        {
            if (sayOnStart)
            {
                Say(line);
            }
        }

        /// <summary>Speak <paramref name="text"/>, interrupting any line still being spoken.</summary>
        public void Say(string text)
        {
            Stop();
            _player.BeginUtterance();
            if (face != null)
            {
                face.Clear();
            }
            var request = new SpeechRequest { Input = text, Voice = voice };
            _current = AtelicoEngine.Instance.Audio.Speak(request, character,
                chunk =>
                {
                    _player.Enqueue(chunk);
                    if (face != null)
                    {
                        face.AddFrames(chunk.Face);
                    }
                },
                result =>
                {
                    _player.EndUtterance();
                    Debug.Log("VoicedNPC: spoke " + result.DurationS.ToString("0.00") + " s");
                },
                error =>
                {
                    _player.EndUtterance();
                    if (!error.IsCancelled)
                    {
                        Debug.LogError("VoicedNPC: " + error);
                    }
                });
        }

        /// <summary>Stop speaking now.</summary>
        public void Stop()
        {
            if (_current != null)
            {
                _current.Cancel();
                _current = null;
            }
            _player.StopSpeaking();
        }

        private void OnDisable()
        {
            Stop();
        }
    }
}
