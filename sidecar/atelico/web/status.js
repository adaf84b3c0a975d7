// The status panel: polls `GET /v1/status` every 2 s (loaded models, memory, queue, errors).

const POLL_MS = 2000;

function fmtUptime(s) {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export class StatusPanel {
  /**
   * @param {import('./client.js').AtelicoClient} client
   * @param {HTMLElement} root holds elements with data-field="..." and a .status-errors list
   * @param {object} stats counters exposed on window.atelicoDemo for tests
   * @param {(ok: boolean, text: string) => void} onHealth reports reachability to the header
   */
  constructor(client, root, stats, onHealth) {
    this.client = client;
    this.root = root;
    this.stats = stats;
    this.onHealth = onHealth;
    this.timer = null;
  }

  start() {
    const tick = async () => {
      await this.poll();
      this.timer = setTimeout(tick, POLL_MS);
    };
    tick();
  }

  _set(field, value) {
    const node = this.root.querySelector(`[data-field="${field}"]`);
    if (node) node.textContent = value;
  }

  async poll() {
    let s;
    try {
      s = await this.client.status();
    } catch (e) {
      this.onHealth(false, e.code === 'auth.invalid_token' ? 'token needed (open the URL the sidecar printed)' : 'unreachable');
      return;
    }
    this.stats.statusPolls += 1;
    this.stats.lastStatus = s;
    this.onHealth(true, `v${s.version}`);
    this._set('rss', `${Math.round(s.rss_mb)} MB`);
    this._set('queue', String(s.queue_depth));
    this._set('requests', String(s.requests_total));
    this._set('connections', String(s.connections));
    this._set('uptime', fmtUptime(s.uptime_s));
    this._set('errors', String((s.recent_errors || []).length));

    const models = this.root.querySelector('.status-models');
    models.replaceChildren(...(s.loaded_models.length ? s.loaded_models : ['none loaded']).map((id) => {
      const chip = document.createElement('span');
      chip.className = s.loaded_models.length ? 'chip model' : 'chip muted';
      chip.textContent = id;
      return chip;
    }));

    const errors = this.root.querySelector('.status-errors');
    const recent = (s.recent_errors || []).slice(-5).reverse();
    errors.replaceChildren(...(recent.length ? recent : [null]).map((e) => {
      const li = document.createElement('li');
      if (!e) {
        li.className = 'muted';
        li.textContent = 'No recent errors';
      } else {
        const when = e.time ? new Date(e.time * 1000).toLocaleTimeString() : '';
        li.innerHTML = '<code></code> <span></span>';
        li.querySelector('code').textContent = e.code || 'error';
        li.querySelector('span').textContent = `${e.message || ''} ${e.where ? `(${e.where})` : ''} ${when}`.trim();
      }
      return li;
    }));
  }
}
