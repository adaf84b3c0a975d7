// Drive the sidecar's /demo page in headless Chromium and report what happened as JSON.
//
//   node tests/web/drive_demo.mjs --url http://127.0.0.1:PORT/demo?token=T \
//       --upload tests/data/speech/goforward.wav --mic tests/data/speech/goforward.wav \
//       --screenshot tests/artifacts/web/demo.png [--chromium /usr/bin/chromium]
//
// The script only observes; tests/web/test_demo_browser.py makes the assertions on the JSON
// it prints on its last stdout line. Each step records its outcome, so one failing step
// still reports the others.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

function parseArgs(argv) {
  const out = { chromium: '/usr/bin/chromium', timeoutMs: 60000 };
  for (let i = 2; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  out.timeoutMs = Number(out.timeoutMs);
  return out;
}

const args = parseArgs(process.argv);
const report = { console: [], pageErrors: [], failedRequests: [], steps: {}, samples: [] };
const t0 = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${path.resolve(args.mic)}`],
});

async function step(name, fn) {
  const start = Date.now();
  try {
    const value = await fn();
    report.steps[name] = { ok: true, seconds: (Date.now() - start) / 1000, ...(value || {}) };
    log(`${name}: ok`);
  } catch (e) {
    report.steps[name] = { ok: false, seconds: (Date.now() - start) / 1000, error: String(e && e.stack || e) };
    log(`${name}: FAILED ${e}`);
  }
}

try {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('console', (m) => report.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => report.pageErrors.push(String(e)));
  page.on('requestfailed', (r) => report.failedRequests.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) report.failedRequests.push(`${r.url()} ${r.status()}`); });
  const demo = (expr) => page.evaluate(`(() => { const d = window.atelicoDemo; return ${expr}; })()`);
  const waitDemo = (expr, timeout = args.timeoutMs) =>
    page.waitForFunction(`(() => { const d = window.atelicoDemo; return !!d && (${expr}); })()`, null, { timeout, polling: 50 });

  await step('load', async () => {
    await page.goto(args.url, { waitUntil: 'load' });
    await waitDemo('d.ready && d.statusPolls >= 1', 30000);
    return {
      engines: await page.$$eval('#engine option', (os) => os.map((o) => o.value)),
      voices: await page.$$eval('#voice option', (os) => os.length),
      sttModels: await page.$$eval('#stt-model option', (os) => os.map((o) => o.value)),
      names: await demo('d.names'),
      weightRows: await page.$$eval('.bs-row', (rs) => rs.map((r) => r.dataset.name)),
    };
  });

  await step('speak', async () => {
    await page.fill('#text', args.text || 'Hello there. How are you doing today?');
    await page.selectOption('#character', 'james');
    const mouthBefore = await page.getAttribute('#face-mouth-inside', 'd');
    await page.click('#play');
    await waitDemo('d.chunksReceived >= 1 && d.samplesScheduled > 0');
    // sample the face and the dashboard while the audio plays
    let ended = false;
    const until = Date.now() + args.timeoutMs;
    while (!ended && Date.now() < until) {
      const s = await page.evaluate(() => {
        const d = window.atelicoDemo;
        const bars = [...document.querySelectorAll('.bs-value')].map((e) => Number(e.textContent));
        return {
          state: d.state, chunks: d.chunksReceived, samples: d.samplesScheduled,
          mouth: document.getElementById('face-mouth-inside').getAttribute('d'),
          head: document.getElementById('face-head').getAttribute('d'),
          dashMax: Math.max(...bars), activeRows: document.querySelectorAll('.bs-row.active').length,
          clock: document.getElementById('clock').textContent,
        };
      });
      report.samples.push(s);
      ended = (s.state === 'ended' || s.state === 'error') && (await demo('d.utterancesDone >= 1 || d.errors.length > 0'));
      await page.waitForTimeout(60);
    }
    const distinctMouths = new Set(report.samples.map((s) => s.mouth)).size;
    return {
      mouthBefore,
      distinctMouths,
      dashMax: Math.max(...report.samples.map((s) => s.dashMax)),
      maxActiveRows: Math.max(...report.samples.map((s) => s.activeRows)),
      counters: await demo(`({ chunksReceived: d.chunksReceived, chunksScheduled: d.chunksScheduled,
        samplesScheduled: d.samplesScheduled, faceFramesReceived: d.faceFramesReceived, underruns: d.underruns,
        firstAudioMs: d.firstAudioMs, faceChanges: d.faceChanges, maxWeightSeen: d.maxWeightSeen,
        maxMouthOpen: d.maxMouthOpen, utterancesDone: d.utterancesDone, state: d.state,
        durationS: d.utterance ? d.utterance.durationS : 0, frameCount: d.utterance ? d.utterance.frameCount : 0,
        sampleRateHz: d.utterance ? d.utterance.sampleRateHz : 0, words: d.utterance ? d.utterance.words.length : 0,
        errors: d.errors })`),
      note: await page.textContent('#speak-note'),
    };
  });

  await step('upload', async () => {
    if (args.sttModel) await page.selectOption('#stt-model', args.sttModel);
    await page.setInputFiles('#stt-file', path.resolve(args.upload));
    await waitDemo('d.transcripts.length >= 1 || d.errors.length > 0');
    return {
      transcripts: await demo('d.transcripts'),
      words: await page.$$eval('.tr-word', (ws) => ws.map((w) => ({ word: w.querySelector('b').textContent,
        start: Number(w.dataset.start), end: Number(w.dataset.end) }))),
    };
  });

  await step('mic', async () => {
    const before = await demo('d.transcripts.length');
    await page.click('#mic');
    await waitDemo(`d.micFramesSent > 0 && (d.finals >= 1 || d.errors.length > 0)`);
    await page.click('#mic');
    await waitDemo('d.liveSessionsDone >= 1 || d.errors.length > 0', 30000);
    const all = await demo('d.transcripts');
    return { micFramesSent: await demo('d.micFramesSent'), partials: await demo('d.partials'),
      finals: await demo('d.finals'), transcripts: all.slice(before), note: await page.textContent('#stt-note') };
  });

  await step('status', async () => {
    await waitDemo('d.statusPolls >= 2', 10000);
    return {
      models: await page.$$eval('.status-models .chip', (cs) => cs.map((c) => c.textContent)),
      memory: await page.textContent('[data-field="rss"]'),
      queue: await page.textContent('[data-field="queue"]'),
      connection: await page.textContent('#conn'),
    };
  });

  await step('scrub_and_replay', async () => {
    // drag the playhead to the widest-open mouth and hold it there: the face shows that frame
    const target = await demo(`(() => {
      const u = d.utterance, jaw = d.names.indexOf('jawOpen');
      let best = 0;
      for (let k = 0; k < u.frameCount; k++) if (u.frames[k * 52 + jaw] > u.frames[best * 52 + jaw]) best = k;
      return (best + 0.5) / u.fps / u.durationS;
    })()`);
    const box = await page.locator('#timeline').boundingBox();
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + 2, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * target, y, { steps: 5 });
    await page.waitForTimeout(150);
    const held = await demo(`({ state: d.state, clock: document.getElementById('clock').textContent,
      frame: document.getElementById('frame-readout').textContent })`);
    if (args.screenshot) {
      mkdirSync(path.dirname(args.screenshot), { recursive: true });
      await page.screenshot({ path: args.screenshot, fullPage: true });
    }
    const replaysBefore = await demo('d.replays');
    await page.mouse.up();
    await waitDemo(`d.replays > ${replaysBefore} && d.state === 'playing'`, 5000);
    return { held, target, replayState: await demo('d.state') };
  });
  if (args.noTokenUrl) {
    await step('no_token', async () => {
      // the same page opened without ?token=: it must say that a token is needed
      const page2 = await context.newPage();
      const consoleLines = [];
      page2.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      await page2.goto(args.noTokenUrl, { waitUntil: 'load' });
      await page2.waitForFunction(() => /token/.test(document.getElementById('conn').textContent), null, { timeout: 15000 });
      const result = { connection: await page2.textContent('#conn'), note: await page2.textContent('#speak-note'),
        console: consoleLines };
      await page2.close();
      return result;
    });
  }
} finally {
  await browser.close();
  report.seconds = (Date.now() - t0) / 1000;
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
}
