// Conformance runner for the browser client (sidecar/atelico/web/client.js), loaded by
// tests/conformance/web/runner.py in headless Chromium. It plays every scenario's client steps
// (tests/data/conformance/README.md) in one page and POSTs the results to /result.
import { AtelicoClient } from './client.js';

const setup = await (await fetch('/setup.json')).json();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(cond, what, errors) {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > setup.wait_timeout_ms) {
      errors.push(`timed out waiting for ${what}`);
      return;
    }
    await sleep(5);
  }
}

async function runScenario(scenario, port) {
  const result = { connects: [], completions: [], errors: [] };
  const requests = {};
  let client = null;
  const complete = (name, state, kind, code) => {
    state.done = true;
    result.completions.push({ request: name, kind, code, chunks: state.chunks });
  };
  for (const step of scenario.client) {
    if (step.do === 'connect' || step.do === 'reconnect') {
      client = client || new AtelicoClient({ baseUrl: `http://127.0.0.1:${port}`, clientName: 'conformance-web' });
      client.handshakeTimeoutMs = step.handshake_timeout_ms ?? 10000;
      try {
        await client.connect();
        result.connects.push('ok');
      } catch (e) {
        result.connects.push(e.code || String(e));
      }
    } else if (!client) {
      result.errors.push(`step ${JSON.stringify(step)} needs a connected client`);
      break;
    } else if (step.do === 'send') {
      const state = { chunks: 0, done: false, handle: null };
      requests[step.request] = state;
      try {
        state.handle = client.request(step.type, step.data, {
          onMessage: () => { state.chunks += 1; }, timeoutMs: step.timeout_ms || 0,
        });
      } catch (e) {
        complete(step.request, state, 'error', e.code || String(e));
        continue;
      }
      state.handle.done.then(
        () => complete(step.request, state, 'done', ''),
        (e) => (e.code === 'cancelled' ? complete(step.request, state, 'cancelled', '')
          : complete(step.request, state, 'error', e.code || String(e))));
    } else if (step.do === 'cancel') {
      requests[step.request].handle?.cancel();
    } else if (step.do === 'wait') {
      const state = requests[step.request];
      if ('chunks' in step) {
        await waitFor(() => state.chunks >= step.chunks || state.done, `${step.chunks} chunks of ${step.request}`, result.errors);
      } else {
        await waitFor(() => state.done, `the completion of ${step.request}`, result.errors);
      }
    } else if (step.do === 'close') {
      client.close();
    } else {
      result.errors.push(`unknown step ${JSON.stringify(step)}`);
    }
  }
  await waitFor(() => Object.values(requests).every((s) => s.done), 'every request to complete', result.errors);
  await sleep(0); // let settled promises record their completions
  if (client?.ws) client.ws.close(); // end the socket whatever the scenario left open
  return result;
}

const results = {};
for (const scenario of setup.scenarios) {
  try {
    const hung = sleep(setup.scenario_timeout_ms).then(() => ({
      connects: [], completions: [], errors: [`the scenario hung for ${setup.scenario_timeout_ms} ms`],
    }));
    results[scenario.name] = await Promise.race([runScenario(scenario, setup.ports[scenario.name]), hung]);
  } catch (e) {
    results[scenario.name] = { connects: [], completions: [], errors: [`the runner threw ${e}`] };
  }
}
await fetch('/result', { method: 'POST', body: JSON.stringify(results) });
