// Maps a streamed clip's output position back to the real (non-padding) samples its reader handed out.
using System.Collections.Generic;

namespace Atelico.Audio
{
    /// <summary>
    /// The audio thread calls <see cref="Add"/> for every PCM reader block: <c>length</c> stream samples
    /// of which the first <c>real</c> are audio and the rest silence padding (an underrun). The main
    /// thread asks <see cref="RealBefore"/> how many real samples lie before an output position, which is
    /// the playback clock of what has actually been heard. Thread-safe; old blocks are dropped once the
    /// output has passed them.
    /// </summary>
    public sealed class StreamClock
    {
        private struct Block
        {
            public long Start;
            public long RealBefore;
            public int Real;
            public int Length;
        }

        private readonly object _gate = new object();
        private readonly List<Block> _blocks = new List<Block>();
        private long _streamEnd;
        private long _realTotal;
        private long _realDropped;

        /// <summary>Real samples handed to the audio thread so far.</summary>
        public long RealHandedOut
        {
            get
            {
                lock (_gate)
                {
                    return _realTotal;
                }
            }
        }

        /// <summary>Stream samples handed to the audio thread so far (real and padding).</summary>
        public long StreamSamples
        {
            get
            {
                lock (_gate)
                {
                    return _streamEnd;
                }
            }
        }

        /// <summary>Audio thread: one reader block of <paramref name="length"/> samples, the first <paramref name="real"/> real.</summary>
        public void Add(int length, int real)
        {
            lock (_gate)
            {
                _blocks.Add(new Block { Start = _streamEnd, RealBefore = _realTotal, Real = real, Length = length });
                _streamEnd += length;
                _realTotal += real;
            }
        }

        /// <summary>Real samples before stream position <paramref name="position"/> (what has been heard at that output position).</summary>
        public long RealBefore(long position)
        {
            lock (_gate)
            {
                // Blocks wholly before the position can go: positions only move forward.
                while (_blocks.Count > 1 && _blocks[1].Start <= position)
                {
                    _realDropped = _blocks[1].RealBefore;
                    _blocks.RemoveAt(0);
                }
                if (_blocks.Count == 0)
                {
                    return _realDropped;
                }
                Block block = _blocks[0];
                if (position <= block.Start)
                {
                    return block.RealBefore;
                }
                long into = position - block.Start;
                return block.RealBefore + System.Math.Min(into, block.Real);
            }
        }

        /// <summary>Playback restarts at stream position 0.</summary>
        public void Reset()
        {
            lock (_gate)
            {
                _blocks.Clear();
                _streamEnd = 0;
                _realTotal = 0;
                _realDropped = 0;
            }
        }
    }
}
