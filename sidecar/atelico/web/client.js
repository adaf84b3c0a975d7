// A small browser client for the Atelico sidecar: the public HTTP routes and the msgpack
// WebSocket (docs/protocol.md). This file is meant to be read as an example of that API.

import { PROTOCOL_VERSION, TERMINAL_TYPES, decodeMessage, encodeMessage } from './protocol.js';

/** An error the sidecar reported: `code` is the machine-readable code (e.g. `voice.unknown`). */
export class ApiError extends Error {
  constructor(code, message, details = undefined, status = undefined) {
    super(message);
    this.code = code;
    this.details = details;
    this.status = status;
  }
}

/**
 * Talks to one sidecar.
 *
 * HTTP routes need `Authorization: Bearer <token>` when the sidecar was started with a token;
 * the WebSocket carries it in its `hello` instead. A page cannot know the token, so the sidecar
 * prints the demo URL with `?token=...` and {@link AtelicoClient.fromPage} reads it from there.
 */
export class AtelicoClient {
  /**
   * @param {{baseUrl?: string, token?: string|null, clientName?: string, handshakeTimeoutMs?: number}} [options]
   */
  constructor({ baseUrl = location.origin, token = null, clientName = 'atelico-web-demo', handshakeTimeoutMs = 10000 } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.token = token;
    this.clientName = clientName;
    this.handshakeTimeoutMs = handshakeTimeoutMs;
    this.ws = null;
    this._closed = false;
    this.welcome = null;
    this._pending = new Map(); // request id → {onMessage, succeed, fail, touch}
    this._nextId = 1;
    this.onclose = null; // (event) => void, for a connection indicator
  }

  /** A client for the sidecar that served this page, with the `?token=` of its URL. */
  static fromPage() {
    const token = new URLSearchParams(location.search).get('token');
    return new AtelicoClient({ baseUrl: location.origin, token: token || null });
  }

  // ------------------------------------------------------------------ HTTP
  _headers(extra = {}) {
    return this.token ? { ...extra, Authorization: `Bearer ${this.token}` } : extra;
  }

  /** Turn an HTTP error body `{error: {code, message, details}}` into an ApiError. */
  static async _raise(response) {
    let body = null;
    try { body = await response.json(); } catch { /* not JSON */ }
    const err = body && body.error;
    throw new ApiError(err?.code || `http.${response.status}`,
      err?.message || `${response.status} ${response.statusText}`, err?.details, response.status);
  }

  /** GET a JSON route, e.g. `/v1/status`. */
  async getJson(path) {
    const response = await fetch(this.baseUrl + path, { headers: this._headers() });
    if (!response.ok) await AtelicoClient._raise(response);
    return response.json();
  }

  /** `GET /v1/models`: every model with `kind`, `installed`, `loaded`, `default`. */
  async models() {
    return (await this.getJson('/v1/models')).data;
  }

  /** `GET /v1/voices?model=`: `[{id, model, language, gender, name, custom}]`. */
  async voices(model) {
    return (await this.getJson(`/v1/voices?model=${encodeURIComponent(model)}`)).data;
  }

  /** `GET /v1/status`: `{rss_mb, queue_depth, loaded_models, recent_errors, uptime_s, ...}`. */
  async status() {
    return this.getJson('/v1/status');
  }

  /**
   * `POST /v1/audio/transcriptions` with word timestamps.
   * @param {Blob} file any audio file the sidecar can decode (wav, mp3, ogg, webm, ...)
   * @param {{model: string, language?: string, filename?: string}} options
   * @returns {Promise<{text: string, language: string, duration: number, segments: object[], words: object[]}>}
   */
  async transcribeFile(file, { model, language, filename = 'audio.wav' }) {
    const form = new FormData();
    form.append('file', file, file.name || filename);
    form.append('model', model);
    form.append('response_format', 'verbose_json');
    form.append('timestamp_granularities[]', 'word');
    form.append('timestamp_granularities[]', 'segment');
    if (language) form.append('language', language);
    const response = await fetch(`${this.baseUrl}/v1/audio/transcriptions`, {
      method: 'POST', headers: this._headers(), body: form,
    });
    if (!response.ok) await AtelicoClient._raise(response);
    return response.json();
  }

  // ------------------------------------------------------------------ WebSocket
  /**
   * Open the WebSocket and do the handshake (`hello` → `welcome`). Also reconnects after a drop.
   * Rejects with `connection.unavailable` (cannot open), `connection.handshake_timeout` or the
   * server's handshake error (e.g. `auth.invalid_token`).
   * @returns {Promise<object>} the welcome data: models, capabilities, limits
   */
  connect() {
    if (this.welcome && this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(this.welcome);
    const url = this.baseUrl.replace(/^http/, 'ws') + '/v1/ws';
    this._closed = false;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      let welcomed = false;
      const timer = setTimeout(() => {
        reject(new ApiError('connection.handshake_timeout', `no welcome from ${url} within ${this.handshakeTimeoutMs} ms`));
        ws.close();
      }, this.handshakeTimeoutMs);
      ws.onopen = () => {
        const data = { protocol: PROTOCOL_VERSION, client: this.clientName, client_version: '0.1.0' };
        if (this.token) data.token = this.token;
        ws.send(encodeMessage({ type: 'hello', data }));
      };
      ws.onmessage = (event) => {
        if (typeof event.data === 'string') return; // the protocol never sends text frames
        let msg;
        try { msg = decodeMessage(event.data); } catch (e) {
          // a stream we cannot parse cannot be trusted: end the connection
          console.warn('atelico: undecodable frame, closing the connection', e);
          if (welcomed) this._failPending('connection.lost', 'the sidecar sent an undecodable frame');
          else reject(new ApiError('connection.unavailable', 'the sidecar sent an undecodable frame'));
          ws.close();
          return;
        }
        if (!welcomed) {
          if (msg.type === 'welcome') {
            clearTimeout(timer);
            welcomed = true;
            this.ws = ws;
            this.welcome = msg.data;
            resolve(msg.data);
          } else if (msg.type === 'error') {
            clearTimeout(timer);
            reject(new ApiError(msg.data.code, msg.data.message, msg.data.details));
          }
          return;
        }
        this._dispatch(msg);
      };
      ws.onerror = () => { if (!welcomed) reject(new ApiError('connection.unavailable', `cannot open ${url}`)); };
      ws.onclose = (event) => {
        clearTimeout(timer);
        if (!welcomed) reject(new ApiError('connection.unavailable', `WebSocket closed (${event.code} ${event.reason})`));
        if (this.ws === ws) {
          this.ws = null;
          this.welcome = null;
        }
        // every request still open ends with an error: nothing else will arrive for it
        this._failPending('connection.lost', 'the connection closed before the request ended');
        if (welcomed && this.onclose) this.onclose(event);
      };
    });
  }

  /** Close the WebSocket: every request still open ends with `client.closed`. */
  close() {
    this._closed = true;
    this._failPending('client.closed', 'the client was closed');
    if (this.ws) this.ws.close(1000, 'client closed');
  }

  /** End every open request with `code` (each exactly once). */
  _failPending(code, message) {
    const open = [...this._pending.entries()];
    this._pending.clear();
    for (const [id, p] of open) p.fail(new ApiError(code, `${message} (request ${id})`));
  }

  _dispatch(msg) {
    if (msg.id === null) {
      if (msg.type === 'error') console.warn(`atelico: connection error ${msg.data.code}: ${msg.data.message}`);
      return;
    }
    const p = this._pending.get(msg.id);
    if (!p) return; // a late message of a request that already ended
    p.touch();
    if (!TERMINAL_TYPES.has(msg.type)) {
      p.onMessage(msg);
      return;
    }
    // exactly one terminal message per request: done, error or cancelled
    this._pending.delete(msg.id);
    if (msg.type === 'done') p.succeed(msg);
    else if (msg.type === 'cancelled') p.fail(new ApiError('cancelled', `request ${msg.id} was cancelled`));
    else p.fail(new ApiError(msg.data.code, msg.data.message, msg.data.details));
  }

  /**
   * Start a request. Non-terminal messages with its id go to `onMessage`; the returned
   * `done` promise resolves with the `done` message or rejects with an ApiError.
   * @param {string} type e.g. `speak`, `stt.live.start`
   * @param {object} data
   * With `timeoutMs`, a request that hears nothing for that long ends with `request.timeout`
   * (a `cancel` goes to the server; its late messages are ignored).
   * @param {{payload?: Uint8Array, onMessage?: (msg: object) => void, id?: string, timeoutMs?: number}} [options]
   * @returns {{id: string, done: Promise<object>, send: (type: string, data?: object, payload?: Uint8Array) => void, cancel: () => void}}
   */
  request(type, data, { payload = null, onMessage = () => {}, id = null, timeoutMs = 0 } = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      throw new ApiError(this._closed ? 'client.closed' : 'connection.lost', 'not connected');
    }
    const rid = id || `web-${this._nextId++}`;
    const done = new Promise((resolve, reject) => {
      let timer = null;
      const entry = {
        onMessage,
        succeed: (msg) => { clearTimeout(timer); resolve(msg); },
        fail: (err) => { clearTimeout(timer); reject(err); },
        touch: () => {
          if (!timeoutMs) return;
          clearTimeout(timer);
          timer = setTimeout(() => {
            if (this._pending.get(rid) !== entry) return;
            this._pending.delete(rid);
            if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeMessage({ type: 'cancel', id: rid }));
            reject(new ApiError('request.timeout', `no answer to request ${rid} within ${timeoutMs} ms`));
          }, timeoutMs);
        },
      };
      entry.touch();
      this._pending.set(rid, entry);
    });
    this.ws.send(encodeMessage({ type, id: rid, data, payload }));
    return {
      id: rid,
      done,
      // follow-up frames of the same request (stt.live.audio, stt.live.stop, ...)
      send: (t, d = {}, p = null) => {
        if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeMessage({ type: t, id: rid, data: d, payload: p }));
      },
      cancel: () => {
        if (this.ws && this.ws.readyState === WebSocket.OPEN && this._pending.has(rid)) {
          this.ws.send(encodeMessage({ type: 'cancel', id: rid }));
        }
      },
    };
  }
}
