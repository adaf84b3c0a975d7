// The transcription panel: a file upload over HTTP (`POST /v1/audio/transcriptions`) and live
// microphone transcription over the WebSocket (`stt.live.start` / `.audio` / `.stop`).

const MIC_FRAME_S = 0.1; // send the microphone in 100 ms frames

/** Render one transcript line: the text, then each word with its start–end time. */
function transcriptLine(text, words, { final = true, label = '' } = {}) {
  const line = document.createElement('div');
  line.className = `tr-line ${final ? 'final' : 'partial'}`;
  const head = document.createElement('div');
  head.className = 'tr-text';
  if (label) {
    const tag = document.createElement('span');
    tag.className = 'tr-tag';
    tag.textContent = label;
    head.appendChild(tag);
  }
  head.appendChild(document.createTextNode(text.trim() || '…'));
  line.appendChild(head);
  if (words && words.length) {
    const list = document.createElement('div');
    list.className = 'tr-words';
    for (const w of words) {
      const chip = document.createElement('span');
      chip.className = 'tr-word';
      chip.dataset.start = w.start;
      chip.dataset.end = w.end;
      chip.title = `${w.start.toFixed(2)}–${w.end.toFixed(2)} s` + (w.probability !== undefined ? `, p=${w.probability.toFixed(2)}` : '');
      chip.innerHTML = '<b></b><small></small>';
      chip.querySelector('b').textContent = w.word.trim();
      chip.querySelector('small').textContent = `${w.start.toFixed(2)}s`;
      list.appendChild(chip);
    }
    line.appendChild(list);
  }
  return line;
}

export class TranscriptionPanel {
  /**
   * @param {import('./client.js').AtelicoClient} client
   * @param {{output: HTMLElement, model: HTMLSelectElement, micButton: HTMLButtonElement,
   *          fileInput: HTMLInputElement, note: HTMLElement}} ui
   * @param {object} stats counters exposed on window.atelicoDemo for tests
   */
  constructor(client, ui, stats) {
    this.client = client;
    this.ui = ui;
    this.stats = stats;
    this.live = null; // {request, ctx, stream, node, partialEl}
    ui.fileInput.addEventListener('change', () => {
      const file = ui.fileInput.files && ui.fileInput.files[0];
      if (file) this.transcribeFile(file);
    });
    ui.micButton.addEventListener('click', () => (this.live ? this.stopMic() : this.startMic()));
  }

  _note(text, isError = false) {
    this.ui.note.textContent = text;
    this.ui.note.classList.toggle('error', isError);
  }

  _prepend(node) {
    const out = this.ui.output;
    out.querySelector('.placeholder')?.remove();
    out.prepend(node);
  }

  /** Upload a file and show its transcript with word timings. */
  async transcribeFile(file) {
    const model = this.ui.model.value;
    this._note(`Transcribing ${file.name} with ${model}…`);
    const t0 = performance.now();
    try {
      const result = await this.client.transcribeFile(file, { model });
      const words = result.words || (result.segments || []).flatMap((s) => s.words || []);
      this._prepend(transcriptLine(result.text, words, { label: file.name }));
      this.stats.transcripts.push(result.text);
      this._note(`${file.name}: ${result.duration.toFixed(2)} s of audio, ${result.language}, ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s to transcribe`);
    } catch (e) {
      this._note(`${e.code || 'error'}: ${e.message}`, true);
      this.stats.errors.push(`${e.code}: ${e.message}`);
    }
  }

  /** Stream the microphone to the sidecar; partials replace each other, finals stay. */
  async startMic() {
    const ui = this.ui;
    ui.micButton.disabled = true;
    try {
      await this.client.connect();
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      const ctx = new AudioContext();
      await ctx.audioWorklet.addModule(new URL('./mic-worklet.js', import.meta.url));
      const source = ctx.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(ctx, 'atelico-mic-tap');
      const mute = ctx.createGain();
      mute.gain.value = 0; // keep the node pulled by the graph without playing the mic back
      source.connect(node).connect(mute).connect(ctx.destination);

      const live = { ctx, stream, node, partialEl: null, pending: [], pendingSamples: 0 };
      live.request = this.client.request('stt.live.start', {
        model: ui.model.value, sample_rate_hz: ctx.sampleRate, sample_format: 'f32le', channels: 1,
        partials: true,
      }, { onMessage: (msg) => this._onLive(live, msg) });
      const frameSamples = Math.round(ctx.sampleRate * MIC_FRAME_S);
      node.port.onmessage = (event) => {
        live.pending.push(event.data);
        live.pendingSamples += event.data.length;
        if (live.pendingSamples < frameSamples) return;
        const frame = new Float32Array(live.pendingSamples);
        let at = 0;
        for (const part of live.pending) { frame.set(part, at); at += part.length; }
        live.pending = [];
        live.pendingSamples = 0;
        // payload = raw float32 little-endian PCM, as described in stt.live.start
        live.request.send('stt.live.audio', {}, new Uint8Array(frame.buffer));
        this.stats.micFramesSent += 1;
      };
      this.live = live;
      live.request.done.then((msg) => {
        this.stats.liveSessionsDone += 1;
        this._note(`Live session ended: ${msg.data.segments} utterance(s) in ${msg.data.duration.toFixed(1)} s of audio`);
      }).catch((e) => {
        if (e.code !== 'cancelled') {
          this._note(`${e.code}: ${e.message}`, true);
          this.stats.errors.push(`${e.code}: ${e.message}`);
        }
      }).finally(() => this._release(live));
      ui.micButton.textContent = '■ Stop microphone';
      ui.micButton.classList.add('recording');
      this._note(`Listening (${ctx.sampleRate} Hz) — speak, pauses end an utterance`);
    } catch (e) {
      this._note(`microphone: ${e.code || e.name}: ${e.message}`, true);
      this.stats.errors.push(`mic: ${e.message}`);
    } finally {
      ui.micButton.disabled = false;
    }
  }

  _onLive(live, msg) {
    const d = msg.data;
    if (msg.type === 'stt.partial') {
      const el = transcriptLine(d.text, null, { final: false, label: 'partial' });
      if (live.partialEl) live.partialEl.replaceWith(el); else this._prepend(el);
      live.partialEl = el;
      this.stats.partials += 1;
    } else if (msg.type === 'stt.final') {
      const el = transcriptLine(d.text, d.words, { label: `${d.start_time.toFixed(1)}–${d.end_time.toFixed(1)} s` });
      if (live.partialEl) { live.partialEl.replaceWith(el); live.partialEl = null; } else this._prepend(el);
      this.stats.finals += 1;
      this.stats.transcripts.push(d.text);
    } else if (msg.type === 'stt.speech.started') {
      // the instant the player talks (a game would duck or stop its NPC here)
      live.speaking = true;
      this.stats.speechStarted = (this.stats.speechStarted || 0) + 1;
      this._note(`Speech started at ${d.start_time.toFixed(2)} s`);
    } else if (msg.type === 'stt.speech.stopped') {
      live.speaking = false;
      this._note(`Speech stopped at ${d.end_time.toFixed(2)} s — transcribing`);
    } else if (msg.type === 'stt.warning') {
      this._note(`${d.code}: ${d.message}`);
    }
  }

  /** Stop sending; the server finalizes the last utterance and ends the request with done. */
  async stopMic() {
    const live = this.live;
    if (!live) return;
    this.live = null;
    live.node.port.onmessage = null;
    live.request.send('stt.live.stop');
    this._note('Finishing the last utterance…');
    this.ui.micButton.textContent = 'Use microphone';
    this.ui.micButton.classList.remove('recording');
    try { await live.request.done; } catch { /* reported above */ }
  }

  _release(live) {
    for (const track of live.stream.getTracks()) track.stop();
    live.ctx.close();
    if (this.live === live) {
      this.live = null;
      this.ui.micButton.textContent = 'Use microphone';
      this.ui.micButton.classList.remove('recording');
    }
  }
}
