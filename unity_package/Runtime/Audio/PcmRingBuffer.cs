// A thread-safe growable FIFO of float samples between the main thread and the audio thread.
using System;

namespace Atelico.Audio
{
    /// <summary>
    /// FIFO of mono float samples: the main thread <see cref="Write"/>s decoded chunks, the audio thread
    /// <see cref="Read"/>s into its output buffer and gets silence when the FIFO runs dry (an underrun).
    /// Counts only real samples in <see cref="SamplesRead"/>, so it measures how much of the utterance
    /// has been played, which is what keeps the face in sync across underruns.
    /// Grows (on the writing thread) instead of dropping audio.
    /// </summary>
    public sealed class PcmRingBuffer
    {
        private readonly object _gate = new object();
        private float[] _buffer;
        private int _head;
        private int _count;
        private long _samplesRead;
        private long _samplesWritten;
        private long _underrunSamples;

        public PcmRingBuffer(int initialCapacity)
        {
            _buffer = new float[Math.Max(16, initialCapacity)];
        }

        /// <summary>Samples waiting to be played.</summary>
        public int Available
        {
            get
            {
                lock (_gate)
                {
                    return _count;
                }
            }
        }

        public int Capacity
        {
            get
            {
                lock (_gate)
                {
                    return _buffer.Length;
                }
            }
        }

        /// <summary>Real samples handed to the reader since the last <see cref="Clear"/>.</summary>
        public long SamplesRead
        {
            get
            {
                lock (_gate)
                {
                    return _samplesRead;
                }
            }
        }

        /// <summary>Samples written since the last <see cref="Clear"/>.</summary>
        public long SamplesWritten
        {
            get
            {
                lock (_gate)
                {
                    return _samplesWritten;
                }
            }
        }

        /// <summary>Silent samples the reader got because the FIFO was empty, while samples were still expected.</summary>
        public long UnderrunSamples
        {
            get
            {
                lock (_gate)
                {
                    return _underrunSamples;
                }
            }
        }

        /// <summary>Append samples; grows the buffer when full.</summary>
        public void Write(float[] samples, int offset, int count)
        {
            if (samples == null)
            {
                throw new ArgumentNullException("samples");
            }
            if (offset < 0 || count < 0 || offset + count > samples.Length)
            {
                throw new ArgumentOutOfRangeException("count");
            }
            lock (_gate)
            {
                if (_count + count > _buffer.Length)
                {
                    int capacity = _buffer.Length;
                    while (capacity < _count + count)
                    {
                        capacity *= 2;
                    }
                    var grown = new float[capacity];
                    CopyOut(grown, 0, _count);
                    _buffer = grown;
                    _head = 0;
                }
                int tail = (_head + _count) % _buffer.Length;
                int first = Math.Min(count, _buffer.Length - tail);
                Array.Copy(samples, offset, _buffer, tail, first);
                Array.Copy(samples, offset + first, _buffer, 0, count - first);
                _count += count;
                _samplesWritten += count;
            }
        }

        /// <summary>Fill <paramref name="destination"/>[offset..offset+count) with queued samples, then
        /// silence. <paramref name="expectMore"/> says whether silence counts as an underrun.</summary>
        /// <returns>How many real samples were copied.</returns>
        public int Read(float[] destination, int offset, int count, bool expectMore = true)
        {
            lock (_gate)
            {
                int real = Math.Min(count, _count);
                CopyOut(destination, offset, real);
                _head = (_head + real) % _buffer.Length;
                _count -= real;
                _samplesRead += real;
                if (real < count)
                {
                    Array.Clear(destination, offset + real, count - real);
                    if (expectMore)
                    {
                        _underrunSamples += count - real;
                    }
                }
                return real;
            }
        }

        /// <summary>Drop everything queued and reset the counters (a new utterance starts).</summary>
        public void Clear()
        {
            lock (_gate)
            {
                _head = 0;
                _count = 0;
                _samplesRead = 0;
                _samplesWritten = 0;
                _underrunSamples = 0;
            }
        }

        private void CopyOut(float[] destination, int offset, int count)
        {
            int first = Math.Min(count, _buffer.Length - _head);
            Array.Copy(_buffer, _head, destination, offset, first);
            Array.Copy(_buffer, 0, destination, offset + first, count - first);
        }
    }
}
