// The Atelico WebSocket envelope (docs/protocol.md): one binary frame = one msgpack map
// {type, id?, data, payload?}. Pure functions, no sockets: usable in browsers and Node.

import { decode, encode, DecodeError } from './msgpack.js';

export const PROTOCOL_VERSION = 1;

/** The 52 ARKit blendshapes in canonical order: column k of every face weight row. */
export const ARKIT_BLENDSHAPES = Object.freeze([
  'eyeBlinkLeft', 'eyeLookDownLeft', 'eyeLookInLeft', 'eyeLookOutLeft', 'eyeLookUpLeft',
  'eyeSquintLeft', 'eyeWideLeft', 'eyeBlinkRight', 'eyeLookDownRight', 'eyeLookInRight',
  'eyeLookOutRight', 'eyeLookUpRight', 'eyeSquintRight', 'eyeWideRight', 'jawForward', 'jawLeft',
  'jawRight', 'jawOpen', 'mouthClose', 'mouthFunnel', 'mouthPucker', 'mouthLeft', 'mouthRight',
  'mouthSmileLeft', 'mouthSmileRight', 'mouthFrownLeft', 'mouthFrownRight', 'mouthDimpleLeft',
  'mouthDimpleRight', 'mouthStretchLeft', 'mouthStretchRight', 'mouthRollLower', 'mouthRollUpper',
  'mouthShrugLower', 'mouthShrugUpper', 'mouthPressLeft', 'mouthPressRight', 'mouthLowerDownLeft',
  'mouthLowerDownRight', 'mouthUpperUpLeft', 'mouthUpperUpRight', 'browDownLeft', 'browDownRight',
  'browInnerUp', 'browOuterUpLeft', 'browOuterUpRight', 'cheekPuff', 'cheekSquintLeft',
  'cheekSquintRight', 'noseSneerLeft', 'noseSneerRight', 'tongueOut',
]);

/** Messages that end a request: exactly one of them arrives per request id. */
export const TERMINAL_TYPES = new Set(['done', 'error', 'cancelled']);

/** A frame that is valid msgpack but not a valid envelope. */
export class EnvelopeError extends Error {
  constructor(message) {
    super(message);
    this.code = 'protocol.malformed';
  }
}

/**
 * Encode one message. Keys go in the protocol's order; a missing id or payload is omitted.
 * @param {{type: string, id?: string|null, data?: object, payload?: Uint8Array|ArrayBuffer|null}} msg
 * @returns {Uint8Array}
 */
export function encodeMessage({ type, id = null, data = {}, payload = null }) {
  const env = { type };
  if (id !== null && id !== undefined) env.id = id;
  env.data = data;
  if (payload !== null && payload !== undefined) env.payload = payload;
  return encode(env);
}

/**
 * Decode and validate one frame.
 * @param {Uint8Array|ArrayBuffer} frame
 * @returns {{type: string, id: string|null, data: object, payload: Uint8Array|null}}
 * @throws {DecodeError|EnvelopeError}
 */
export function decodeMessage(frame) {
  const env = decode(frame);
  if (env === null || typeof env !== 'object' || Array.isArray(env) || env instanceof Uint8Array) {
    throw new EnvelopeError('a frame must be a msgpack map');
  }
  if (typeof env.type !== 'string') throw new EnvelopeError("the envelope needs a str 'type'");
  const data = env.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data) || data instanceof Uint8Array) {
    throw new EnvelopeError("the envelope needs a map 'data'");
  }
  const id = env.id ?? null;
  if (id !== null && typeof id !== 'string') throw new EnvelopeError("'id' must be a str or nil");
  const payload = env.payload ?? null;
  if (payload !== null && !(payload instanceof Uint8Array)) throw new EnvelopeError("'payload' must be bin");
  return { type: env.type, id, data, payload };
}

/**
 * View little-endian float32 bytes as a Float32Array (copies only when unaligned).
 * @param {Uint8Array} bytes
 * @returns {Float32Array}
 */
export function float32View(bytes) {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  return new Float32Array(bytes.slice().buffer);
}

export { DecodeError };
