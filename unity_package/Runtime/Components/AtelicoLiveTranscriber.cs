// Microphone to live transcription, with partial/final results as UnityEvents.
using System;
using UnityEngine;
using UnityEngine.Events;

namespace Atelico.Audio
{
    /// <summary>A UnityEvent carrying text.</summary>
    [Serializable]
    public sealed class AtelicoTextEvent : UnityEvent<string>
    {
    }

    /// <summary>A UnityEvent carrying voice activity (<c>stt.speech.started</c> / <c>stt.speech.stopped</c>).</summary>
    [Serializable]
    public sealed class AtelicoSpeechActivityEvent : UnityEvent<SpeechActivity>
    {
    }

    /// <summary>
    /// Records the microphone and streams it to <c>stt.live</c>. <see cref="onPartial"/> (revisable) and
    /// <see cref="onFinal"/> (one per utterance) are raised on the main thread, as are <see cref="onSpeechStarted"/>
    /// (speech began, before any partial) and <see cref="onSpeechStopped"/> (right before the final). OnEnable starts the
    /// microphone and the session and allocates the block buffer; OnDisable stops the microphone and
    /// flushes the session (its last final still arrives), releasing the buffers.
    /// </summary>
    [AddComponentMenu("Atelico/Atelico Live Transcriber")]
    public sealed class AtelicoLiveTranscriber : MonoBehaviour
    {
        [Tooltip("Microphone device name; empty for the default device.")]
        [SerializeField] private string microphoneDevice = "";

        [SerializeField] private int sampleRateHz = 16000;

        [Tooltip("Audio is sent in blocks of this many milliseconds.")]
        [SerializeField] private int blockMilliseconds = 100;

        [SerializeField] private string model = "whisper";

        [Tooltip("ISO 639-1 code, or empty to detect.")]
        [SerializeField] private string language = "en";

        public AtelicoTextEvent onPartial = new AtelicoTextEvent();
        public AtelicoTextEvent onFinal = new AtelicoTextEvent();
        public AtelicoTextEvent onError = new AtelicoTextEvent();
        public AtelicoSpeechActivityEvent onSpeechStarted = new AtelicoSpeechActivityEvent();
        public AtelicoSpeechActivityEvent onSpeechStopped = new AtelicoSpeechActivityEvent();

        private const int ClipSeconds = 10;
        private AudioClip _clip;
        private MicrophoneRing _ring;
        private float[] _block;
        private LiveTranscription _session;
        private string _device;

        /// <summary>The last partial or final text.</summary>
        public string CurrentText { get; private set; }

        public bool IsListening { get { return _session != null && !_session.IsCompleted; } }

        private void OnEnable()
        {
            _device = string.IsNullOrEmpty(microphoneDevice) ? null : microphoneDevice;
            _clip = Microphone.Start(_device, true, ClipSeconds, sampleRateHz);
            if (_clip == null)
            {
                onError.Invoke("microphone could not start");
                return;
            }
            int blockSamples = Math.Max(1, sampleRateHz * blockMilliseconds / 1000);
            _block = new float[blockSamples];
            _ring = new MicrophoneRing(_clip.samples, blockSamples);
            _ring.Reset(Math.Max(0, Microphone.GetPosition(_device)));
            var options = new LiveTranscriptionOptions
            {
                Model = model,
                Language = string.IsNullOrEmpty(language) ? null : language,
                SampleRateHz = sampleRateHz,
            };
            _session = AtelicoEngine.Instance.Audio.StartLiveTranscription(options,
                partial =>
                {
                    CurrentText = partial.Text;
                    onPartial.Invoke(partial.Text);
                },
                final =>
                {
                    CurrentText = final.Text;
                    onFinal.Invoke(final.Text);
                },
                null,
                error =>
                {
                    if (!error.IsCancelled)
                    {
                        onError.Invoke(error.ToString());
                    }
                },
                null,
                s => onSpeechStarted.Invoke(s),
                s => onSpeechStopped.Invoke(s));
        }

        private void Update()
        {
            if (_session == null || _clip == null || _session.IsCompleted)
            {
                return;
            }
            int position = Microphone.GetPosition(_device);
            int start;
            while (_ring.TryTakeBlock(position, out start))
            {
                _clip.GetData(_block, start);
                _session.SendAudio(_block, 0, _block.Length);
            }
        }

        private void OnDisable()
        {
            if (Microphone.IsRecording(_device))
            {
                Microphone.End(_device);
            }
            if (_session != null)
            {
                _session.Stop();
                _session = null;
            }
            if (_clip != null)
            {
                Destroy(_clip);
                _clip = null;
            }
            _block = null;
            _ring = null;
        }
    }
}
