// Gap-free playback of streamed TTS chunks with the Web Audio API, plus the utterance's
// face frames, so the face can be drawn from the audio clock (AudioContext.currentTime).

import { ARKIT_BLENDSHAPES } from './protocol.js';

const CHANNELS = ARKIT_BLENDSHAPES.length; // 52
const START_DELAY_S = 0.08; // headroom before the first chunk plays

/** Everything received for one utterance: PCM chunks, words and face frames. */
export class Utterance {
  constructor() {
    this.sampleRateHz = 24000;
    this.chunks = []; // {offsetSamples, pcm: Float32Array, text}
    this.words = []; // {word, start_s, end_s}
    this.fps = 30;
    this.frames = new Float32Array(0); // row-major [frameCount, 52]
    this.frameCount = 0;
    this.totalSamples = 0;
    this.complete = false;
  }

  /** Seconds of audio received so far. */
  get durationS() {
    return this.totalSamples / this.sampleRateHz;
  }

  addAudio(offsetSamples, pcm, text, words) {
    this.chunks.push({ offsetSamples, pcm, text });
    this.totalSamples = Math.max(this.totalSamples, offsetSamples + pcm.length);
    if (words) this.words.push(...words);
  }

  /** Store face rows `[count, 52]` that start at frame `startFrame` of the utterance. */
  addFrames(startFrame, weights, fps = 30) {
    this.fps = fps;
    const count = Math.floor(weights.length / CHANNELS);
    const needed = (startFrame + count) * CHANNELS;
    if (needed > this.frames.length) {
      const grown = new Float32Array(Math.max(needed, this.frames.length * 2));
      grown.set(this.frames);
      this.frames = grown;
    }
    this.frames.set(weights.subarray(0, count * CHANNELS), startFrame * CHANNELS);
    this.frameCount = Math.max(this.frameCount, startFrame + count);
  }

  /** The 52 weights shown at `timeS` (the last frame received if time runs ahead). */
  frameAt(timeS) {
    if (this.frameCount === 0) return null;
    const k = Math.min(this.frameCount - 1, Math.max(0, Math.floor(timeS * this.fps)));
    return this.frames.subarray(k * CHANNELS, (k + 1) * CHANNELS);
  }

  /** All audio as one buffer (for replay and seeking once the utterance is complete). */
  joined() {
    const out = new Float32Array(this.totalSamples);
    for (const c of this.chunks) out.set(c.pcm, c.offsetSamples);
    return out;
  }
}

/**
 * Schedules chunks on an AudioContext back to back by their `offset_samples`, so there is no
 * gap between them whatever their arrival times (as long as each arrives before it is due).
 */
export class StreamPlayer {
  /** @param {AudioContext} ctx */
  constructor(ctx) {
    this.ctx = ctx;
    this.gain = ctx.createGain();
    this.gain.connect(ctx.destination);
    this.sources = new Set();
    this.startTime = null; // ctx time at which utterance time 0 plays
    this.endTime = 0; // ctx time at which the last scheduled sample ends
    this.stats = { chunksScheduled: 0, samplesScheduled: 0, underruns: 0, lateS: 0 };
  }

  /** Stop everything and forget the clock. */
  stop() {
    for (const s of this.sources) {
      s.onended = null;
      try { s.stop(); } catch { /* not started */ }
    }
    this.sources.clear();
    this.startTime = null;
    this.endTime = 0;
  }

  _play(pcm, rate, when, offsetInBufferS = 0) {
    const buffer = this.ctx.createBuffer(1, pcm.length, rate);
    buffer.copyToChannel(pcm, 0);
    const src = this.ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(this.gain);
    src.onended = () => this.sources.delete(src);
    src.start(when, offsetInBufferS);
    this.sources.add(src);
    this.endTime = Math.max(this.endTime, when + pcm.length / rate - offsetInBufferS);
  }

  /**
   * Schedule one streamed chunk. The first chunk starts the clock; later ones are placed at
   * `startTime + offsetSamples / rate`. A chunk that arrives after its due time shifts the
   * clock (an audible pause, counted in `stats.underruns`) rather than overlapping.
   */
  schedule(pcm, rate, offsetSamples) {
    const now = this.ctx.currentTime;
    if (this.startTime === null) this.startTime = now + START_DELAY_S - offsetSamples / rate;
    let when = this.startTime + offsetSamples / rate;
    if (when < now + 0.005) {
      const late = now + 0.02 - when;
      this.startTime += late;
      when += late;
      this.stats.underruns += 1;
      this.stats.lateS += late;
    }
    this._play(pcm, rate, when);
    this.stats.chunksScheduled += 1;
    this.stats.samplesScheduled += pcm.length;
  }

  /** Play a whole utterance from `fromS` seconds (replay, or after a seek). */
  playFrom(utterance, fromS) {
    this.stop();
    const pcm = utterance.joined();
    const rate = utterance.sampleRateHz;
    const from = Math.min(Math.max(0, fromS), pcm.length / rate);
    const when = this.ctx.currentTime + 0.03;
    this.startTime = when - from;
    this._play(pcm, rate, when, from);
  }

  /**
   * Seconds into the utterance being heard now (null before anything was scheduled): the audio
   * clock minus the output latency, so the face matches what reaches the speakers.
   */
  position() {
    if (this.startTime === null) return null;
    return this.ctx.currentTime - (this.ctx.outputLatency || 0) - this.startTime;
  }

  /** True while scheduled audio is still ahead of the clock. */
  get playing() {
    return this.startTime !== null && this.ctx.currentTime < this.endTime;
  }
}
