// Minimal msgpack for the Atelico wire protocol (docs/protocol.md), as an ES module.
//
// Encoding follows the protocol's byte-exact rules: map keys in insertion order, integers in
// their smallest form, floats as float64 (0xcb), str/bin/array/map with their smallest header.
// JavaScript has one number type, so an integer-valued number is written as an int; wrap it in
// `new F64(x)` to force a float64 (e.g. `speed: new F64(1)`). Uint8Array/ArrayBuffer → bin.
// `undefined` values in objects are skipped (the protocol omits nil fields rather than sending
// them); `null` is written as nil.
//
// Decoding accepts any valid msgpack: bin → Uint8Array (a view into the frame, no copy),
// float32/float64 → number, ints → number (BigInt only beyond 2^53), ext → {type, data}.
// Runs in browsers and in Node (tests/web/msgpack.test.mjs checks it against the golden
// frames in tests/data/protocol/).

/** A number that must be encoded as float64 even when it is integer-valued. */
export class F64 {
  /** @param {number} value */
  constructor(value) {
    this.value = value;
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Growable byte buffer used by the encoder. */
class Writer {
  constructor(size = 256) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }
  ensure(n) {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v) { this.ensure(1); this.view.setUint8(this.pos, v); this.pos += 1; }
  u16(v) { this.ensure(2); this.view.setUint16(this.pos, v); this.pos += 2; }
  u32(v) { this.ensure(4); this.view.setUint32(this.pos, v); this.pos += 4; }
  u64(v) { this.ensure(8); this.view.setBigUint64(this.pos, BigInt(v)); this.pos += 8; }
  i8(v) { this.ensure(1); this.view.setInt8(this.pos, v); this.pos += 1; }
  i16(v) { this.ensure(2); this.view.setInt16(this.pos, v); this.pos += 2; }
  i32(v) { this.ensure(4); this.view.setInt32(this.pos, v); this.pos += 4; }
  i64(v) { this.ensure(8); this.view.setBigInt64(this.pos, BigInt(v)); this.pos += 8; }
  f64(v) { this.ensure(9); this.view.setUint8(this.pos, 0xcb); this.view.setFloat64(this.pos + 1, v); this.pos += 9; }
  bytes(b) { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
  result() { return this.buf.slice(0, this.pos); }
}

const UINT64_MAX = 18446744073709551615n;
const INT64_MIN = -9223372036854775808n;

function writeInt(w, v) {
  // v: a safe-integer number or a BigInt
  if (v >= 0) {
    if (v < 0x80) w.u8(Number(v));
    else if (v <= 0xff) { w.u8(0xcc); w.u8(Number(v)); }
    else if (v <= 0xffff) { w.u8(0xcd); w.u16(Number(v)); }
    else if (v <= 0xffffffff) { w.u8(0xce); w.u32(Number(v)); }
    else { w.u8(0xcf); w.u64(v); }
  } else {
    if (v >= -32) w.u8(Number(v) & 0xff);
    else if (v >= -0x80) { w.u8(0xd0); w.i8(Number(v)); }
    else if (v >= -0x8000) { w.u8(0xd1); w.i16(Number(v)); }
    else if (v >= -0x80000000) { w.u8(0xd2); w.i32(Number(v)); }
    else { w.u8(0xd3); w.i64(v); }
  }
}

function writeHeader(w, n, fix, fixMax, c8, c16, c32) {
  if (n <= fixMax && fix !== null) w.u8(fix | n);
  else if (c8 !== null && n <= 0xff) { w.u8(c8); w.u8(n); }
  else if (n <= 0xffff) { w.u8(c16); w.u16(n); }
  else { w.u8(c32); w.u32(n); }
}

function writeValue(w, v) {
  if (v === null || v === undefined) { w.u8(0xc0); return; }
  if (v === false) { w.u8(0xc2); return; }
  if (v === true) { w.u8(0xc3); return; }
  if (v instanceof F64) { w.f64(v.value); return; }
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) writeInt(w, v);
    else w.f64(v);
    return;
  }
  if (typeof v === 'bigint') {
    if (v > UINT64_MAX || v < INT64_MIN) throw new RangeError(`integer out of msgpack range: ${v}`);
    writeInt(w, v);
    return;
  }
  if (typeof v === 'string') {
    const b = textEncoder.encode(v);
    writeHeader(w, b.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
    w.bytes(b);
    return;
  }
  if (v instanceof Uint8Array || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const b = v instanceof Uint8Array ? v
      : v instanceof ArrayBuffer ? new Uint8Array(v)
        : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    writeHeader(w, b.length, null, -1, 0xc4, 0xc5, 0xc6);
    w.bytes(b);
    return;
  }
  if (Array.isArray(v)) {
    writeHeader(w, v.length, 0x90, 15, null, 0xdc, 0xdd);
    for (const item of v) writeValue(w, item);
    return;
  }
  if (v instanceof Map) {
    writeHeader(w, v.size, 0x80, 15, null, 0xde, 0xdf);
    for (const [k, item] of v) { writeValue(w, k); writeValue(w, item); }
    return;
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v).filter(([, item]) => item !== undefined);
    writeHeader(w, entries.length, 0x80, 15, null, 0xde, 0xdf);
    for (const [k, item] of entries) { writeValue(w, k); writeValue(w, item); }
    return;
  }
  throw new TypeError(`cannot encode a ${typeof v} as msgpack`);
}

/**
 * Encode a value as msgpack.
 * @param {*} value
 * @returns {Uint8Array}
 */
export function encode(value) {
  const w = new Writer();
  writeValue(w, value);
  return w.result();
}

/** Thrown for bytes that are not one valid msgpack value. */
export class DecodeError extends Error {}

class Reader {
  constructor(bytes) {
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }
  need(n) {
    if (this.pos + n > this.buf.length) throw new DecodeError('truncated msgpack data');
  }
  u8() { this.need(1); return this.view.getUint8(this.pos++); }
  u16() { this.need(2); const v = this.view.getUint16(this.pos); this.pos += 2; return v; }
  u32() { this.need(4); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }
  u64() { this.need(8); const v = this.view.getBigUint64(this.pos); this.pos += 8; return small(v); }
  i8() { this.need(1); return this.view.getInt8(this.pos++); }
  i16() { this.need(2); const v = this.view.getInt16(this.pos); this.pos += 2; return v; }
  i32() { this.need(4); const v = this.view.getInt32(this.pos); this.pos += 4; return v; }
  i64() { this.need(8); const v = this.view.getBigInt64(this.pos); this.pos += 8; return small(v); }
  f32() { this.need(4); const v = this.view.getFloat32(this.pos); this.pos += 4; return v; }
  f64() { this.need(8); const v = this.view.getFloat64(this.pos); this.pos += 8; return v; }
  bytes(n) { this.need(n); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  str(n) {
    try { return textDecoder.decode(this.bytes(n)); } catch (e) {
      if (e instanceof DecodeError) throw e;
      throw new DecodeError('invalid UTF-8 in a msgpack str');
    }
  }
}

function small(big) {
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big;
}

function readArray(r, n, depth) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readValue(r, depth + 1);
  return out;
}

function readMap(r, n, depth) {
  const out = {};
  for (let i = 0; i < n; i++) {
    const k = readValue(r, depth + 1);
    if (typeof k !== 'string' && typeof k !== 'number') throw new DecodeError('map keys must be str or int');
    out[k] = readValue(r, depth + 1);
  }
  return out;
}

function readValue(r, depth) {
  if (depth > 64) throw new DecodeError('msgpack nesting too deep');
  const c = r.u8();
  if (c < 0x80) return c;
  if (c < 0x90) return readMap(r, c & 0x0f, depth);
  if (c < 0xa0) return readArray(r, c & 0x0f, depth);
  if (c < 0xc0) return r.str(c & 0x1f);
  if (c >= 0xe0) return c - 0x100;
  switch (c) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: return r.bytes(r.u8());
    case 0xc5: return r.bytes(r.u16());
    case 0xc6: return r.bytes(r.u32());
    case 0xc7: { const n = r.u8(); const type = r.i8(); return { type, data: r.bytes(n) }; }
    case 0xc8: { const n = r.u16(); const type = r.i8(); return { type, data: r.bytes(n) }; }
    case 0xc9: { const n = r.u32(); const type = r.i8(); return { type, data: r.bytes(n) }; }
    case 0xca: return r.f32();
    case 0xcb: return r.f64();
    case 0xcc: return r.u8();
    case 0xcd: return r.u16();
    case 0xce: return r.u32();
    case 0xcf: return r.u64();
    case 0xd0: return r.i8();
    case 0xd1: return r.i16();
    case 0xd2: return r.i32();
    case 0xd3: return r.i64();
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
      const type = r.i8();
      return { type, data: r.bytes(1 << (c - 0xd4)) };
    }
    case 0xd9: return r.str(r.u8());
    case 0xda: return r.str(r.u16());
    case 0xdb: return r.str(r.u32());
    case 0xdc: return readArray(r, r.u16(), depth);
    case 0xdd: return readArray(r, r.u32(), depth);
    case 0xde: return readMap(r, r.u16(), depth);
    case 0xdf: return readMap(r, r.u32(), depth);
    default: throw new DecodeError(`invalid msgpack byte 0x${c.toString(16)}`);
  }
}

/**
 * Decode exactly one msgpack value (trailing bytes are an error).
 * @param {Uint8Array|ArrayBuffer} bytes
 * @returns {*}
 */
export function decode(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const r = new Reader(b);
  const value = readValue(r, 0);
  if (r.pos !== b.length) throw new DecodeError(`${b.length - r.pos} trailing bytes after the msgpack value`);
  return value;
}
