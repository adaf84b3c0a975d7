"""Audio plumbing: PCM conversion, WAV, decoding and encoding files, resampling."""
