// Gap-free playback of streamed speech chunks on an AudioSource.
using UnityEngine;

namespace Atelico.Audio
{
    /// <summary>
    /// Plays streamed chunks back to back without gaps: chunks go into a <see cref="PcmRingBuffer"/>
    /// read by a looping streaming AudioClip's PCM reader on the audio thread. Playback starts once
    /// <see cref="prerollSeconds"/> are queued. <see cref="PlaybackTimeS"/> counts only real samples
    /// played, so a face driven by it stays in sync even when the network is late (underrun = silence
    /// and a paused clock). Allocates the buffer and clip in OnEnable, releases them in OnDisable.
    /// </summary>
    [RequireComponent(typeof(AudioSource))]
    [AddComponentMenu("Atelico/Atelico Stream Player")]
    public sealed class AtelicoStreamPlayer : MonoBehaviour
    {
        [Tooltip("Sample rate of the speech (Kokoro: 24000 Hz). A chunk with another rate restarts the clip.")]
        [SerializeField] private int sampleRateHz = 24000;

        [Tooltip("Seconds of audio queued before playback starts (absorbs network jitter).")]
        [SerializeField] private float prerollSeconds = 0.1f;

        [Tooltip("Initial buffer size in seconds (it grows when needed).")]
        [SerializeField] private float bufferSeconds = 20f;

        private AudioSource _source;
        private AudioClip _clip;
        private PcmRingBuffer _buffer;
        private volatile bool _utteranceOpen;

        /// <summary>Seconds of the current utterance played so far (pauses during underruns).</summary>
        public double PlaybackTimeS
        {
            get { return _buffer == null ? 0.0 : (double)_buffer.SamplesRead / sampleRateHz; }
        }

        /// <summary>Seconds queued and not yet played.</summary>
        public double BufferedS
        {
            get { return _buffer == null ? 0.0 : (double)_buffer.Available / sampleRateHz; }
        }

        /// <summary>Seconds of silence inserted because a chunk arrived late.</summary>
        public double UnderrunS
        {
            get { return _buffer == null ? 0.0 : (double)_buffer.UnderrunSamples / sampleRateHz; }
        }

        /// <summary>True while an utterance is open or audio is still queued.</summary>
        public bool IsSpeaking
        {
            get { return _utteranceOpen || (_buffer != null && _buffer.Available > 0); }
        }

        public int SampleRateHz { get { return sampleRateHz; } }

        private void OnEnable()
        {
            _source = GetComponent<AudioSource>();
            _buffer = new PcmRingBuffer((int)(bufferSeconds * sampleRateHz));
            CreateClip();
        }

        private void OnDisable()
        {
            if (_source != null)
            {
                _source.Stop();
                _source.clip = null;
            }
            if (_clip != null)
            {
                Destroy(_clip);
                _clip = null;
            }
            _buffer = null;
            _utteranceOpen = false;
        }

        /// <summary>Start a new utterance: drops queued audio and resets the clock.</summary>
        public void BeginUtterance()
        {
            if (_buffer == null)
            {
                return;
            }
            _buffer.Clear();
            _utteranceOpen = true;
            if (_source != null)
            {
                _source.Stop();
            }
        }

        /// <summary>Queue a chunk's samples (call from chunk callbacks, on the main thread).</summary>
        public void Enqueue(SpeechChunk chunk)
        {
            if (chunk.SampleRateHz != sampleRateHz)
            {
                sampleRateHz = chunk.SampleRateHz;
                _buffer = new PcmRingBuffer((int)(bufferSeconds * sampleRateHz));
                CreateClip();
            }
            Enqueue(chunk.Samples);
        }

        /// <summary>Queue mono samples at <see cref="SampleRateHz"/>.</summary>
        public void Enqueue(float[] samples)
        {
            if (_buffer == null)
            {
                return;
            }
            _utteranceOpen = true;
            _buffer.Write(samples, 0, samples.Length);
        }

        /// <summary>No more chunks will come for this utterance (later silence is not an underrun).</summary>
        public void EndUtterance()
        {
            _utteranceOpen = false;
        }

        /// <summary>Stop now and drop queued audio.</summary>
        public void StopSpeaking()
        {
            if (_buffer != null)
            {
                _buffer.Clear();
            }
            _utteranceOpen = false;
            if (_source != null)
            {
                _source.Stop();
            }
        }

        private void Update()
        {
            if (_source == null || _buffer == null)
            {
                return;
            }
            if (!_source.isPlaying && _buffer.Available >= prerollSeconds * sampleRateHz)
            {
                _source.Play();
            }
            else if (_source.isPlaying && !IsSpeaking)
            {
                _source.Stop();
            }
        }

        private void CreateClip()
        {
            if (_clip != null)
            {
                Destroy(_clip);
            }
            // A one-second looping streaming clip: Unity keeps asking the reader for more samples.
            _clip = AudioClip.Create("atelico-stream", sampleRateHz, 1, sampleRateHz, true, OnAudioRead);
            if (_source != null)
            {
                _source.clip = _clip;
                _source.loop = true;
            }
        }

        private void OnAudioRead(float[] data)
        {
            var buffer = _buffer;
            if (buffer == null)
            {
                System.Array.Clear(data, 0, data.Length);
                return;
            }
            buffer.Read(data, 0, data.Length, _utteranceOpen);
        }
    }
}
