// The utterance timeline: waveform, word boundaries, a playhead; drag it to scrub.

export class Timeline {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{onScrub: (timeS: number) => void, onSeek: (timeS: number) => void}} handlers
   *   onScrub while dragging (the face follows, audio paused), onSeek on release (play from there)
   */
  constructor(canvas, { onScrub, onSeek }) {
    this.canvas = canvas;
    this.utterance = null;
    this.playheadS = 0;
    this.enabled = false;
    this.dragging = false;
    this._peaks = null;
    this._peaksFor = -1;
    const timeAt = (event) => {
      const rect = canvas.getBoundingClientRect();
      const x = Math.min(Math.max(0, event.clientX - rect.left), rect.width);
      return (x / rect.width) * this.totalS();
    };
    canvas.addEventListener('pointerdown', (e) => {
      if (!this.enabled) return;
      this.dragging = true;
      canvas.setPointerCapture(e.pointerId);
      this.playheadS = timeAt(e);
      onScrub(this.playheadS);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.dragging) return;
      this.playheadS = timeAt(e);
      onScrub(this.playheadS);
    });
    canvas.addEventListener('pointerup', (e) => {
      if (!this.dragging) return;
      this.dragging = false;
      this.playheadS = timeAt(e);
      onSeek(this.playheadS);
    });
    // keyboard: arrows step 0.1 s, Enter plays from the playhead
    canvas.addEventListener('keydown', (e) => {
      if (!this.enabled) return;
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        this.playheadS = Math.min(this.totalS(), Math.max(0, this.playheadS + (e.key === 'ArrowLeft' ? -0.1 : 0.1)));
        onScrub(this.playheadS);
        e.preventDefault();
      } else if (e.key === 'Enter' || e.key === ' ') {
        onSeek(this.playheadS);
        e.preventDefault();
      }
    });
  }

  totalS() {
    return this.utterance ? Math.max(this.utterance.durationS, 0.001) : 1;
  }

  setUtterance(utterance) {
    this.utterance = utterance;
    this.playheadS = 0;
    this._peaksFor = -1;
  }

  _computePeaks(width) {
    const u = this.utterance;
    if (this._peaksFor === u.totalSamples && this._peaks && this._peaks.length === width) return this._peaks;
    const peaks = new Float32Array(width);
    const perPx = u.totalSamples / width;
    for (const c of u.chunks) {
      for (let i = 0; i < c.pcm.length; i += 8) {
        const px = Math.min(width - 1, Math.floor((c.offsetSamples + i) / perPx));
        const a = Math.abs(c.pcm[i]);
        if (a > peaks[px]) peaks[px] = a;
      }
    }
    this._peaks = peaks;
    this._peaksFor = u.totalSamples;
    return peaks;
  }

  /** Redraw (called every animation frame; cheap when nothing changed). */
  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cssW = c.clientWidth;
    const cssH = c.clientHeight;
    if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
      c.width = Math.round(cssW * dpr);
      c.height = Math.round(cssH * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);
    const mid = cssH / 2 - 6;
    g.fillStyle = '#1b2130';
    g.fillRect(0, 0, cssW, cssH);
    const u = this.utterance;
    if (!u || u.totalSamples === 0) {
      g.fillStyle = '#6b7488';
      g.font = '12px system-ui, sans-serif';
      g.fillText('The waveform appears here as the speech streams in.', 12, mid + 4);
      return;
    }
    const total = this.totalS();
    const peaks = this._computePeaks(Math.max(1, Math.floor(cssW)));
    g.fillStyle = '#4f8cff';
    for (let x = 0; x < peaks.length; x++) {
      const h = Math.max(1, peaks[x] * (mid - 6) * 1.6);
      g.fillRect(x, mid - h, 1, 2 * h);
    }
    // words: a tick at each start and the word below
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'bottom';
    let lastEnd = -Infinity;
    for (const w of u.words) {
      const x = (w.start_s / total) * cssW;
      g.fillStyle = 'rgba(255,255,255,0.18)';
      g.fillRect(x, 4, 1, cssH - 20);
      if (x > lastEnd + 4) {
        g.fillStyle = '#b7c0d4';
        g.fillText(w.word, x + 2, cssH - 3);
        lastEnd = x + g.measureText(w.word).width + 2;
      }
    }
    // playhead
    const px = Math.min(cssW - 1, (this.playheadS / total) * cssW);
    g.fillStyle = '#ffb547';
    g.fillRect(px - 1, 0, 2, cssH);
  }
}
