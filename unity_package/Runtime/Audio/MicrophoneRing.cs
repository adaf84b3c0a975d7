// Position arithmetic for reading a looping microphone clip in fixed-size blocks.
namespace Atelico.Audio
{
    /// <summary>
    /// Tracks the read position in a looping recording clip of <see cref="LengthSamples"/> samples.
    /// Unity's <c>Microphone.GetPosition</c> wraps at the clip length; this returns how many whole
    /// blocks are ready since the last read, so the reader can use one preallocated block buffer.
    /// </summary>
    public sealed class MicrophoneRing
    {
        public MicrophoneRing(int lengthSamples, int blockSamples)
        {
            LengthSamples = lengthSamples;
            BlockSamples = blockSamples;
        }

        public int LengthSamples { get; private set; }
        public int BlockSamples { get; private set; }

        /// <summary>Where the next block starts in the clip.</summary>
        public int ReadPosition { get; private set; }

        /// <summary>Samples recorded but not yet consumed, given the recorder's write position.</summary>
        public int Pending(int writePosition)
        {
            int pending = writePosition - ReadPosition;
            if (pending < 0)
            {
                pending += LengthSamples;
            }
            return pending;
        }

        /// <summary>True when a whole block is ready; <paramref name="blockStart"/> is where to read it
        /// (the block may wrap past the clip end: Unity's AudioClip.GetData wraps too).</summary>
        public bool TryTakeBlock(int writePosition, out int blockStart)
        {
            blockStart = ReadPosition;
            if (Pending(writePosition) < BlockSamples)
            {
                return false;
            }
            ReadPosition = (ReadPosition + BlockSamples) % LengthSamples;
            return true;
        }

        /// <summary>Start reading at <paramref name="position"/> (e.g. when the recording restarts).</summary>
        public void Reset(int position)
        {
            ReadPosition = position;
        }
    }
}
