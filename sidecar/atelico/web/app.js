// The demo page: wires the client, the streamed player, the face, the dashboard, the
// timeline, the transcription and status panels. Counters live on `window.atelicoDemo`
// (the browser test reads them).

import { ApiError, AtelicoClient } from './client.js';
import { ARKIT_BLENDSHAPES, float32View } from './protocol.js';
import { StreamPlayer, Utterance } from './player.js';
import { FaceView } from './face.js';
import { WeightsDashboard } from './dashboard.js';
import { Timeline } from './timeline.js';
import { TranscriptionPanel } from './transcribe.js';
import { StatusPanel } from './status.js';

const $ = (id) => document.getElementById(id);

/** What the page has done so far, for people (devtools) and for tests. */
const demo = {
  ready: false,
  names: ARKIT_BLENDSHAPES,
  state: 'idle', // idle | connecting | streaming | playing | ended | scrubbing | error
  chunksReceived: 0,
  faceFramesReceived: 0,
  samplesScheduled: 0,
  chunksScheduled: 0,
  underruns: 0,
  firstAudioMs: null,
  framesRendered: 0,
  faceChanges: 0,
  maxWeightSeen: 0,
  maxMouthOpen: 0,
  utterancesDone: 0,
  replays: 0,
  transcripts: [],
  partials: 0,
  finals: 0,
  micFramesSent: 0,
  liveSessionsDone: 0,
  statusPolls: 0,
  lastStatus: null,
  errors: [],
  client: null,
  utterance: null,
};
window.atelicoDemo = demo;

const client = AtelicoClient.fromPage();
demo.client = client;
const face = new FaceView($('face'));
const dashboard = new WeightsDashboard($('weights'));
let audioCtx = null;
let player = null;
let utterance = null;
let request = null; // the speak request in flight
let scrubbing = false;
let faceAvailable = false;
let lastMouth = '';

const timeline = new Timeline($('timeline'), {
  onScrub: (t) => {
    // dragging: silence the audio, show the face at the playhead
    scrubbing = true;
    if (player) player.stop();
    setState('scrubbing');
    showFrameAt(t);
  },
  onSeek: (t) => {
    scrubbing = false;
    playFrom(t);
  },
});

function setState(state) {
  demo.state = state;
  document.body.dataset.state = state;
  $('stop').disabled = !(state === 'streaming' || state === 'playing');
  $('replay').disabled = !(utterance && utterance.complete && state !== 'streaming');
  $('play').disabled = state === 'connecting' || state === 'streaming';
}

function note(text, isError = false) {
  $('speak-note').textContent = text;
  $('speak-note').classList.toggle('error', isError);
}

function reportError(where, e) {
  const text = e instanceof ApiError ? `${e.code}: ${e.message}` : `${e.name || 'Error'}: ${e.message}`;
  demo.errors.push(`${where}: ${text}`);
  note(text, true);
}

// ------------------------------------------------------------------ models and voices
async function loadChoices() {
  const models = await client.models();
  const fill = (select, kind) => {
    const usable = models.filter((m) => m.kind === kind && m.installed);
    select.replaceChildren(...usable.map((m) => new Option(m.id, m.id, m.default, m.default)));
    return usable;
  };
  if (fill($('engine'), 'tts').length === 0) note('No TTS model is installed: run `atelico models pull kokoro`', true);
  fill($('stt-model'), 'stt');
  faceAvailable = models.some((m) => m.kind === 'face' && m.installed);
  if (!faceAvailable) $('frame-readout').textContent = 'no face model installed (audio only)';
  await loadVoices();
}

async function loadVoices() {
  const model = $('engine').value;
  const select = $('voice');
  if (!model) return;
  const voices = await client.voices(model);
  const byLanguage = new Map();
  for (const v of voices) {
    if (!byLanguage.has(v.language)) byLanguage.set(v.language, []);
    byLanguage.get(v.language).push(v);
  }
  select.replaceChildren(...[...byLanguage].map(([language, list]) => {
    const group = document.createElement('optgroup');
    group.label = language;
    for (const v of list) {
      const label = `${v.name || v.id}${v.gender ? ` · ${v.gender}` : ''}${v.custom ? ' · custom' : ''}`;
      group.appendChild(new Option(label, v.id));
    }
    return group;
  }));
  const preferred = voices.find((v) => v.id === 'af_heart') || voices[0];
  if (preferred) select.value = preferred.id;
}

// ------------------------------------------------------------------ synthesis
function ensureAudio() {
  if (!audioCtx) {
    audioCtx = new AudioContext({ latencyHint: 'interactive' });
    player = new StreamPlayer(audioCtx);
  }
  return audioCtx.resume();
}

async function speak() {
  const text = $('text').value.trim();
  if (!text) { note('Type something to say first.', true); return; }
  await ensureAudio();
  if (request) request.cancel();
  player.stop();
  utterance = new Utterance();
  demo.utterance = utterance;
  timeline.setUtterance(utterance);
  timeline.enabled = false;
  setState('connecting');
  note('');
  try {
    await client.connect();
  } catch (e) {
    setState('error');
    reportError('connect', e);
    return;
  }
  setState('streaming');
  const t0 = performance.now();
  // `speak` = streamed TTS with face frames in each chunk; without a face model, plain TTS
  const type = faceAvailable ? 'speak' : 'tts.synthesize';
  const data = {
    model: $('engine').value, input: text, voice: $('voice').value || undefined,
    speed: Number($('speed').value), stream: true, sample_format: 'f32le', words: true,
  };
  if (type === 'speak') data.character = $('character').value;
  const u = utterance;
  const req = client.request(type, data, {
    onMessage: (msg) => {
      if (utterance !== u) return; // a newer utterance replaced this one
      const d = msg.data;
      if (msg.type === 'tts.chunk') {
        // payload: float32 little-endian PCM (we asked for sample_format f32le)
        const pcm = float32View(msg.payload).slice();
        u.sampleRateHz = d.sample_rate_hz;
        u.addAudio(d.offset_samples, pcm, d.text, d.words);
        if (d.face) {
          u.addFrames(d.face.start_frame, float32View(d.face.weights).slice(), d.face.fps);
          demo.faceFramesReceived += d.face.frame_count;
        }
        if (!scrubbing) player.schedule(pcm, d.sample_rate_hz, d.offset_samples);
        demo.chunksReceived += 1;
        if (demo.firstAudioMs === null || d.sequence === 0) demo.firstAudioMs = Math.round(performance.now() - t0);
        syncPlayerStats();
      } else if (msg.type === 'face.frames') {
        // trailing face frames after the last audio chunk
        u.addFrames(d.start_frame, float32View(msg.payload).slice(), d.fps);
        demo.faceFramesReceived += d.frame_count;
      }
    },
  });
  request = req;
  try {
    const done = await req.done;
    if (utterance !== u) return;
    u.complete = true;
    timeline.enabled = true;
    demo.utterancesDone += 1;
    note(`${done.data.chunks} chunks · ${done.data.duration_s.toFixed(2)} s · ${done.data.voice} · first audio after ${demo.firstAudioMs} ms`);
    setState(player.playing ? 'playing' : 'ended');
  } catch (e) {
    if (utterance !== u) return;
    if (e.code === 'cancelled') { note('Stopped.'); setState('ended'); return; }
    setState('error');
    reportError('speak', e);
  } finally {
    if (request === req) request = null;
  }
}

function syncPlayerStats() {
  demo.samplesScheduled = player.stats.samplesScheduled;
  demo.chunksScheduled = player.stats.chunksScheduled;
  demo.underruns = player.stats.underruns;
}

function stop() {
  if (request) request.cancel();
  if (player) player.stop();
  setState('ended');
}

async function playFrom(t) {
  if (!utterance || !utterance.complete) return;
  await ensureAudio();
  player.playFrom(utterance, t);
  demo.replays += 1;
  setState('playing');
}

// ------------------------------------------------------------------ drawing
function showFrameAt(t) {
  const frame = utterance ? utterance.frameAt(t) : null;
  const pose = face.render(frame || new Float32Array(ARKIT_BLENDSHAPES.length));
  dashboard.update(frame);
  timeline.playheadS = t;
  demo.framesRendered += 1;
  if (frame) {
    let max = 0;
    for (let i = 0; i < frame.length; i++) if (frame[i] > max) max = frame[i];
    demo.maxWeightSeen = Math.max(demo.maxWeightSeen, max);
    demo.maxMouthOpen = Math.max(demo.maxMouthOpen, pose.mouthOpen);
  }
  const mouth = face.mouthInside.getAttribute('d');
  if (mouth !== lastMouth) { demo.faceChanges += 1; lastMouth = mouth; }
  const n = utterance ? utterance.frameCount : 0;
  const k = utterance && n ? Math.min(n - 1, Math.floor(t * utterance.fps)) : 0;
  $('frame-readout').textContent = n ? `frame ${k + 1} of ${n}` : 'frame – of –';
  updateCaption(t);
}

function updateCaption(t) {
  const cap = $('caption');
  if (!utterance || !utterance.words.length) { cap.textContent = ''; return; }
  if (cap.dataset.count !== String(utterance.words.length)) {
    cap.replaceChildren(...utterance.words.map((w) => {
      const s = document.createElement('span');
      s.textContent = w.word;
      return s;
    }));
    cap.dataset.count = String(utterance.words.length);
  }
  utterance.words.forEach((w, i) => {
    cap.children[i].classList.toggle('now', t >= w.start_s && t < w.end_s);
  });
}

function animate() {
  if (player && !scrubbing && player.position() !== null) {
    const t = player.position();
    const end = utterance ? utterance.durationS : 0;
    showFrameAt(Math.min(Math.max(0, t), end));
    if (!player.playing && t > end && utterance && utterance.complete && demo.state === 'playing') setState('ended');
  }
  const total = utterance ? utterance.durationS : 0;
  $('clock').textContent = `${timeline.playheadS.toFixed(2)} / ${total.toFixed(2)} s`;
  $('metrics').textContent = utterance
    ? `${demo.chunksReceived} chunks · ${utterance.frameCount} face frames` + (demo.underruns ? ` · ${demo.underruns} underruns` : '')
    : '';
  timeline.draw();
  requestAnimationFrame(animate);
}

// ------------------------------------------------------------------ start
function setConnection(ok, text) {
  const pill = $('conn');
  pill.textContent = ok ? `connected · ${text}` : text;
  pill.className = `pill ${ok ? 'ok' : 'bad'}`;
}

$('play').addEventListener('click', () => speak());
$('stop').addEventListener('click', stop);
$('replay').addEventListener('click', () => playFrom(0));
$('engine').addEventListener('change', () => loadVoices().catch((e) => reportError('voices', e)));
$('character').addEventListener('change', () => { face.setCharacter($('character').value); showFrameAt(timeline.playheadS); });
$('speed').addEventListener('input', () => { $('speed-out').textContent = `${Number($('speed').value).toFixed(2)}×`; });
$('text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) speak(); });
client.onclose = () => setConnection(false, 'WebSocket closed');

new TranscriptionPanel(client, {
  output: $('stt-output'), model: $('stt-model'), micButton: $('mic'), fileInput: $('stt-file'), note: $('stt-note'),
}, demo);
new StatusPanel(client, $('status'), demo, setConnection).start();

setState('idle');
requestAnimationFrame(animate);
loadChoices()
  .then(() => { demo.ready = true; })
  .catch((e) => { reportError('models', e); demo.ready = true; });
