// Gap-free playback of streamed speech chunks on an AudioSource.
using UnityEngine;

namespace Atelico.Audio
{
    /// <summary>
    /// Plays streamed chunks back to back without gaps: chunks go into a <see cref="PcmRingBuffer"/>
    /// read by a looping streaming AudioClip's PCM reader on the audio thread. Playback starts once
    /// <see cref="prerollSeconds"/> are queued. The audio thread reads ahead of what is heard (in blocks
    /// of thousands of samples), so the clock is not "samples read": <see cref="PlaybackTimeS"/> maps the
    /// source's output position (<see cref="AudioSource.timeSamples"/>) back to the real samples the
    /// reader handed out, so silence padded in during an underrun does not advance it and a face driven
    /// by it stays on the voice. The source stops once every real sample has been heard, not when the
    /// read-ahead emptied the buffer. Allocates the buffer and clip in OnEnable, releases them in OnDisable.
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

        /// <summary>Length of the looping stream clip: the output position is unwrapped every frame, so
        /// only a frame longer than this would confuse the clock.</summary>
        private const int ClipSeconds = 10;

        private AudioSource _source;
        private AudioClip _clip;
        private PcmRingBuffer _buffer;
        private volatile bool _utteranceOpen;
        private readonly StreamClock _clock = new StreamClock();
        private long _wraps;
        private int _lastTimeSamples;
        private long _heardWhenStopped;

        /// <summary>Seconds of the current utterance heard so far (pauses during underruns). Main thread.</summary>
        public double PlaybackTimeS
        {
            get { return (double)HeardSamples() / sampleRateHz; }
        }

        /// <summary>Seconds queued and not yet handed to the audio thread.</summary>
        public double BufferedS
        {
            get { return _buffer == null ? 0.0 : (double)_buffer.Available / sampleRateHz; }
        }

        /// <summary>Seconds of silence inserted because a chunk arrived late.</summary>
        public double UnderrunS
        {
            get { return _buffer == null ? 0.0 : (double)_buffer.UnderrunSamples / sampleRateHz; }
        }

        /// <summary>True while an utterance is open, audio is queued, or read-ahead audio is not yet heard.</summary>
        public bool IsSpeaking
        {
            get { return _utteranceOpen || (_buffer != null && (_buffer.Available > 0 || HeardSamples() < _clock.RealHandedOut)); }
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
            StopSource();
            _buffer.Clear();
            _utteranceOpen = true;
        }

        /// <summary>Queue a chunk's samples (call from chunk callbacks, on the main thread).</summary>
        public void Enqueue(SpeechChunk chunk)
        {
            if (chunk.SampleRateHz != sampleRateHz)
            {
                StopSource();
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
            StopSource();
            if (_buffer != null)
            {
                _buffer.Clear();
            }
            _utteranceOpen = false;
        }

        private void Update()
        {
            if (_source == null || _buffer == null)
            {
                return;
            }
            // Unwrap the looping clip's output position every frame, whether or not anyone reads the clock.
            HeardSamples();
            if (!_source.isPlaying && _buffer.Available > 0 && _buffer.Available >= prerollSeconds * sampleRateHz)
            {
                StopSource();
                _source.Play();
            }
            else if (_source.isPlaying && !IsSpeaking)
            {
                // Everything handed out was heard: stop, keeping the clock at the utterance's end.
                _heardWhenStopped = HeardSamples();
                _source.Stop();
            }
        }

        private void StopSource()
        {
            if (_source != null && _source.isPlaying)
            {
                _source.Stop();
            }
            _clock.Reset();
            _wraps = 0;
            _lastTimeSamples = 0;
            _heardWhenStopped = 0;
        }

        /// <summary>Real samples heard: the output position, unwrapped, mapped through what the reader handed out.</summary>
        private long HeardSamples()
        {
            if (_source == null || _clip == null || !_source.isPlaying)
            {
                return _heardWhenStopped;
            }
            int position = _source.timeSamples;
            if (position < _lastTimeSamples)
            {
                _wraps++;
            }
            _lastTimeSamples = position;
            return _clock.RealBefore(_wraps * (long)_clip.samples + position);
        }

        private void CreateClip()
        {
            if (_clip != null)
            {
                Destroy(_clip);
            }
            // A looping streaming clip: Unity keeps asking the reader for more samples on its audio thread.
            _clip = AudioClip.Create("atelico-stream", sampleRateHz * ClipSeconds, 1, sampleRateHz, true, OnAudioRead);
            if (_source != null)
            {
                _source.clip = _clip;
                _source.loop = true;
            }
        }

        /// <summary>Audio thread: fill the block from the FIFO (silence when dry) and note where the real samples went.</summary>
        private void OnAudioRead(float[] data)
        {
            var buffer = _buffer;
            if (buffer == null)
            {
                System.Array.Clear(data, 0, data.Length);
                _clock.Add(data.Length, 0);
                return;
            }
            int real = buffer.Read(data, 0, data.Length, _utteranceOpen);
            _clock.Add(data.Length, real);
        }
    }
}
