// The demo's JS msgpack/envelope code against the protocol's golden frames
// (tests/data/protocol/*.msgpack with their meaning in the .json beside each).
// Run: node --test tests/web/msgpack.test.mjs (pytest runs it from test_demo_browser.py).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { decode, encode, F64 } from '../../sidecar/atelico/web/msgpack.js';
import { decodeMessage, encodeMessage } from '../../sidecar/atelico/web/protocol.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const goldenDir = path.join(here, '..', 'data', 'protocol');

// The .json meanings write floats with a '.' or an exponent (1.0, 1e+300); JSON.parse would
// turn 1.0 into an integer, so mark those tokens as F64 before parsing. "$bin" → bytes.
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
function parseMeaning(text) {
  const marked = text.replace(TOKEN, (t) => (t[0] !== '"' && /[.eE]/.test(t) ? `{"$f64":${t}}` : t));
  return JSON.parse(marked, (key, value) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === '$f64') return new F64(value.$f64);
      if (keys.length === 1 && keys[0] === '$bin') return new Uint8Array(Buffer.from(value.$bin, 'base64'));
    }
    return value;
  });
}

// What a decoder should give for a meaning: plain numbers instead of F64 markers.
function plain(v) {
  if (v instanceof F64) return v.value;
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const names = readdirSync(goldenDir).filter((f) => f.endsWith('.msgpack')).map((f) => f.slice(0, -8)).sort();

test('there are golden frames to check', () => {
  assert.ok(names.length >= 30, `only ${names.length} golden frames found in ${goldenDir}`);
});

for (const name of names) {
  const golden = new Uint8Array(readFileSync(path.join(goldenDir, `${name}.msgpack`)));
  const meaning = parseMeaning(readFileSync(path.join(goldenDir, `${name}.json`), 'utf8'));

  test(`${name}: encodeMessage gives the golden bytes`, () => {
    const bytes = encodeMessage(meaning);
    assert.deepEqual(Buffer.from(bytes).toString('hex'), Buffer.from(golden).toString('hex'));
  });

  test(`${name}: decodeMessage gives the meaning`, () => {
    const msg = decodeMessage(golden);
    assert.deepEqual(plain(msg), plain({ id: null, payload: null, ...meaning }));
  });
}

for (const file of readdirSync(path.join(goldenDir, 'invalid')).filter((f) => f.endsWith('.msgpack'))) {
  test(`invalid/${file} is refused`, () => {
    const bytes = new Uint8Array(readFileSync(path.join(goldenDir, 'invalid', file)));
    assert.throws(() => decodeMessage(bytes));
  });
}

test('decoder accepts non-canonical forms (float32, wide ints, str keys in any order)', () => {
  // {"b": float32 1.5, "a": uint64 7, "c": int32 -3, "d": bin8 [1,2]}
  const bytes = Uint8Array.from([0x84, 0xa1, 0x62, 0xca, 0x3f, 0xc0, 0, 0,
    0xa1, 0x61, 0xcf, 0, 0, 0, 0, 0, 0, 0, 7, 0xa1, 0x63, 0xd2, 0xff, 0xff, 0xff, 0xfd,
    0xa1, 0x64, 0xc4, 2, 1, 2]);
  assert.deepEqual(plain(decode(bytes)), { b: 1.5, a: 7, c: -3, d: [1, 2] });
});

test('round trip of big containers and long strings', () => {
  const value = { arr: Array.from({ length: 70000 }, (_, i) => i % 300 - 150), s: 'é'.repeat(40000),
    bin: new Uint8Array(70000).fill(9), m: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])) };
  assert.deepEqual(plain(decode(encode(value))), plain(value));
});

test('trailing bytes and truncation are errors', () => {
  assert.throws(() => decode(Uint8Array.from([0x01, 0x02])), /trailing/);
  assert.throws(() => decode(Uint8Array.from([0xcd, 0x01])), /truncated/);
});
