// A 2D SVG face driven by the 52 ARKit blendshape weights: jaw, lips, eyes, brows, cheeks.
// "Left" weights are the character's left, drawn on the viewer's right (x > 0).

import { ARKIT_BLENDSHAPES } from './protocol.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const INDEX = Object.fromEntries(ARKIT_BLENDSHAPES.map((name, i) => [name, i]));

/** Looks per character (hair and skin); the motion itself comes only from the weights. */
const LOOKS = {
  claire: { skin: '#f2c9a6', shade: '#e0ad88', hair: '#8a3b1e', lips: '#c8596a', style: 'long', shirt: '#3c6e71' },
  james: { skin: '#c98e63', shade: '#b07651', hair: '#2b2220', lips: '#a9564f', style: 'short', shirt: '#4a4e8c' },
  mark: { skin: '#e8bb94', shade: '#d29f78', hair: '#6b6257', lips: '#b5635d', style: 'beard', shirt: '#7a4b3a' },
};

function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

const clamp01 = (x) => Math.min(1, Math.max(0, x));
const f = (x) => x.toFixed(2);

export class FaceView {
  /** @param {HTMLElement} container the face is drawn into it (an <svg> is created) */
  constructor(container) {
    this.svg = el('svg', { viewBox: '-110 -125 220 250', class: 'face-svg', role: 'img',
      'aria-label': 'animated face' });
    container.appendChild(this.svg);
    const defs = el('defs', {}, this.svg);
    this.clipL = this._eyeClip(defs, 'eye-clip-l');
    this.clipR = this._eyeClip(defs, 'eye-clip-r');
    this.mouthClip = el('clipPath', { id: 'mouth-clip' }, defs);
    this.mouthClipPath = el('path', {}, this.mouthClip);

    this.hairBack = el('path', { class: 'hair' }, this.svg);
    this.earL = el('ellipse', { cx: -78, cy: -5, rx: 10, ry: 16 }, this.svg);
    this.earR = el('ellipse', { cx: 78, cy: -5, rx: 10, ry: 16 }, this.svg);
    this.neck = el('path', { d: 'M -28 70 L -30 125 L 30 125 L 28 70 Z' }, this.svg);
    this.shirt = el('path', { d: 'M -108 126 C -104 104 -70 96 -31 94 C -18 106 18 106 31 94 C 70 96 104 104 108 126 Z' }, this.svg);
    this.head = el('path', { id: 'face-head' }, this.svg);
    this.beard = el('path', { class: 'beard' }, this.svg);
    this.cheekL = el('ellipse', { cx: 45, cy: 28, rx: 13, ry: 8, fill: '#ef7b7b' }, this.svg);
    this.cheekR = el('ellipse', { cx: -45, cy: 28, rx: 13, ry: 8, fill: '#ef7b7b' }, this.svg);
    this.hairFront = el('path', { class: 'hair' }, this.svg);

    this.eyeL = this._eye(30, this.clipL); // character's left → viewer's right
    this.eyeR = this._eye(-30, this.clipR);
    this.browL = el('path', { class: 'brow', fill: 'none', 'stroke-width': 5, 'stroke-linecap': 'round' }, this.svg);
    this.browR = el('path', { class: 'brow', fill: 'none', 'stroke-width': 5, 'stroke-linecap': 'round' }, this.svg);
    this.nose = el('path', { fill: 'none', 'stroke-width': 2.2, 'stroke-linecap': 'round' }, this.svg);

    const mouth = el('g', { id: 'face-mouth' }, this.svg);
    this.mouthInside = el('path', { id: 'face-mouth-inside', fill: '#3b1016' }, mouth);
    const inside = el('g', { 'clip-path': 'url(#mouth-clip)' }, mouth);
    this.teethTop = el('rect', { x: -22, width: 44, height: 6, rx: 2, fill: '#fbf7f0' }, inside);
    this.teethBottom = el('rect', { x: -20, width: 40, height: 5, rx: 2, fill: '#efe9df' }, inside);
    this.tongue = el('ellipse', { cx: 0, rx: 14, ry: 7, fill: '#d86a78' }, inside);
    this.lipUpper = el('path', { id: 'face-lip-upper' }, mouth);
    this.lipLower = el('path', { id: 'face-lip-lower' }, mouth);

    this.setCharacter('claire');
    this.weights = new Float32Array(ARKIT_BLENDSHAPES.length);
    this.render(this.weights);
  }

  _eyeClip(defs, id) {
    const clip = el('clipPath', { id }, defs);
    return el('ellipse', {}, clip);
  }

  _eye(cx, clip) {
    const g = el('g', {}, this.svg);
    const white = el('ellipse', { cx, cy: -12, fill: '#fff' }, g);
    const inner = el('g', { 'clip-path': `url(#${clip.parentNode.id})` }, g);
    const iris = el('circle', { r: 6.5, fill: '#3d6d8c' }, inner);
    const pupil = el('circle', { r: 3, fill: '#111' }, inner);
    const lidTop = el('rect', { x: cx - 20, width: 40 }, inner);
    const lidBottom = el('rect', { x: cx - 20, width: 40 }, inner);
    const lash = el('path', { fill: 'none', stroke: '#2a1c18', 'stroke-width': 2, 'stroke-linecap': 'round' }, g);
    return { cx, clip, white, iris, pupil, lidTop, lidBottom, lash };
  }

  /** Change hair/skin colours for a character (`claire`, `james`, `mark`). */
  setCharacter(name) {
    const look = LOOKS[name] || LOOKS.claire;
    this.look = look;
    for (const node of [this.head, this.earL, this.earR, this.neck]) node.setAttribute('fill', look.skin);
    for (const eye of [this.eyeL, this.eyeR]) {
      eye.lidTop.setAttribute('fill', look.skin);
      eye.lidBottom.setAttribute('fill', look.skin);
    }
    for (const node of [this.hairBack, this.hairFront, this.browL, this.browR]) {
      node.setAttribute(node.classList.contains('brow') ? 'stroke' : 'fill', look.hair);
    }
    this.nose.setAttribute('stroke', look.shade);
    this.shirt.setAttribute('fill', look.shirt);
    this.beard.setAttribute('fill', look.hair);
    this.lipUpper.setAttribute('fill', look.lips);
    this.lipLower.setAttribute('fill', look.lips);
    if (look.style === 'long') {
      this.hairBack.setAttribute('d', 'M -86 -20 C -96 -120 96 -120 86 -20 L 92 80 C 70 95 50 90 44 60 L -44 60 C -50 90 -70 95 -92 80 Z');
      this.hairFront.setAttribute('d', 'M -78 -30 C -80 -105 80 -105 78 -30 C 70 -70 30 -82 -10 -70 C -40 -62 -60 -50 -78 -30 Z');
    } else {
      this.hairBack.setAttribute('d', 'M -80 -25 C -86 -112 86 -112 80 -25 Z');
      this.hairFront.setAttribute('d', 'M -79 -28 C -82 -104 82 -104 79 -28 C 72 -62 40 -74 0 -72 C -40 -74 -72 -62 -79 -28 Z');
    }
    if (this.weights) this.render(this.weights);
  }

  _w(name) {
    return this.weights[INDEX[name]];
  }

  /**
   * Draw one frame.
   * @param {Float32Array|number[]} weights 52 ARKit weights in canonical order, in [0, 1]
   * @returns {{mouthOpen: number, jawDrop: number}} a summary of the pose (used by tests)
   */
  render(weights) {
    this.weights = weights;
    const w = (n) => clamp01(this._w(n));

    // ---- jaw and head outline: the chin drops and swings with jaw weights
    const jawOpen = w('jawOpen');
    const jawDrop = jawOpen * 16;
    const jawX = (w('jawLeft') - w('jawRight')) * 10;
    const puff = w('cheekPuff') * 9;
    const chinY = 96 + jawDrop;
    this.head.setAttribute('d',
      `M -76 -20 C -76 -112 76 -112 76 -20 C ${f(78 + puff)} 40 ${f(42 + jawX)} ${f(chinY)} ${f(jawX)} ${f(chinY)} ` +
      `C ${f(-42 + jawX)} ${f(chinY)} ${f(-78 - puff)} 40 -76 -20 Z`);
    if (this.look.style === 'beard') {
      this.beard.setAttribute('d',
        `M -72 20 C -70 60 ${f(-40 + jawX)} ${f(chinY + 8)} ${f(jawX)} ${f(chinY + 8)} C ${f(40 + jawX)} ${f(chinY + 8)} 70 60 72 20 ` +
        `C 60 50 40 ${f(62 + jawDrop)} ${f(jawX)} ${f(64 + jawDrop)} C -40 ${f(62 + jawDrop)} -60 50 -72 20 Z`);
    } else {
      this.beard.setAttribute('d', '');
    }
    this.cheekL.setAttribute('opacity', f(0.12 + 0.45 * Math.max(w('cheekSquintLeft'), w('mouthSmileLeft'))));
    this.cheekR.setAttribute('opacity', f(0.12 + 0.45 * Math.max(w('cheekSquintRight'), w('mouthSmileRight'))));
    this.cheekL.setAttribute('rx', f(13 + puff));
    this.cheekR.setAttribute('rx', f(13 + puff));

    // ---- eyes: lids from blink/wide/squint, iris from the look directions
    this._drawEye(this.eyeL, w('eyeBlinkLeft'), w('eyeWideLeft'), w('eyeSquintLeft'),
      w('eyeLookOutLeft') - w('eyeLookInLeft'), w('eyeLookDownLeft') - w('eyeLookUpLeft'));
    this._drawEye(this.eyeR, w('eyeBlinkRight'), w('eyeWideRight'), w('eyeSquintRight'),
      w('eyeLookInRight') - w('eyeLookOutRight'), w('eyeLookDownRight') - w('eyeLookUpRight'));

    // ---- brows: inner ends follow browInnerUp/browDown, outer ends browOuterUp
    const inner = w('browInnerUp') * 9;
    this._drawBrow(this.browL, 1, inner - w('browDownLeft') * 7, w('browOuterUpLeft') * 9 - w('browDownLeft') * 3);
    this._drawBrow(this.browR, -1, inner - w('browDownRight') * 7, w('browOuterUpRight') * 9 - w('browDownRight') * 3);

    // ---- nose: a sneer lifts the nostrils
    const sL = w('noseSneerLeft') * 3;
    const sR = w('noseSneerRight') * 3;
    this.nose.setAttribute('d', `M -2 -2 C -4 10 -6 18 -3 22 M ${f(-11)} ${f(20 - sR)} C -8 ${f(26 - sR)} 8 ${f(26 - sL)} 11 ${f(20 - sL)}`);

    // ---- mouth
    return { mouthOpen: this._drawMouth(w, jawOpen, jawX), jawDrop };
  }

  _drawEye(eye, blink, wide, squint, lookX, lookY) {
    const cy = -12;
    const ry = 8.5 * (1 + 0.35 * wide);
    const rx = 14;
    eye.white.setAttribute('rx', rx);
    eye.white.setAttribute('ry', f(ry));
    eye.clip.setAttribute('cx', eye.cx);
    eye.clip.setAttribute('cy', cy);
    eye.clip.setAttribute('rx', rx);
    eye.clip.setAttribute('ry', f(ry));
    const ix = eye.cx + lookX * 6;
    const iy = cy + lookY * 4;
    for (const n of [eye.iris, eye.pupil]) { n.setAttribute('cx', f(ix)); n.setAttribute('cy', f(iy)); }
    // upper lid covers a fraction of the eye; the lower lid rises with squint
    const closed = clamp01(0.12 + blink * 0.9 + squint * 0.15 - wide * 0.12);
    const top = cy - ry;
    const lidEdge = top + 2 * ry * closed;
    eye.lidTop.setAttribute('y', f(top - 2));
    eye.lidTop.setAttribute('height', f(Math.max(0, lidEdge - top + 2)));
    const lower = cy + ry - 2 * ry * clamp01(squint * 0.3 + blink * 0.1);
    eye.lidBottom.setAttribute('y', f(lower));
    eye.lidBottom.setAttribute('height', f(cy + ry - lower + 2));
    // the lash line follows the lid edge: an arc over the open eye, a smile-shaped curve when shut
    eye.lash.setAttribute('d', `M ${eye.cx - rx - 1} ${cy} Q ${eye.cx} ${f(2 * lidEdge - cy)} ${eye.cx + rx + 1} ${cy}`);
  }

  _drawBrow(path, side, innerUp, outerUp) {
    const y = -36;
    path.setAttribute('d', `M ${10 * side} ${f(y - innerUp)} Q ${28 * side} ${f(y - 7 - (innerUp + outerUp) / 2)} ${46 * side} ${f(y + 2 - outerUp)}`);
  }

  _drawMouth(w, jawOpen, jawX) {
    const y0 = 50 + jawOpen * 4;
    const pucker = w('mouthPucker');
    const funnel = w('mouthFunnel');
    const narrow = 1 - 0.38 * pucker - 0.28 * funnel;
    const halfL = 24 * (narrow + 0.25 * w('mouthStretchLeft') + 0.18 * w('mouthSmileLeft') + 0.06 * w('mouthDimpleLeft'));
    const halfR = 24 * (narrow + 0.25 * w('mouthStretchRight') + 0.18 * w('mouthSmileRight') + 0.06 * w('mouthDimpleRight'));
    const dx = (w('mouthLeft') - w('mouthRight')) * 9 + jawX * 0.4;
    const Lx = dx + halfL; // character's left corner, viewer's right
    const Rx = dx - halfR;
    const Ly = y0 - 7 * w('mouthSmileLeft') + 6 * w('mouthFrownLeft') + 2 * w('mouthStretchLeft') * jawOpen;
    const Ry = y0 - 7 * w('mouthSmileRight') + 6 * w('mouthFrownRight') + 2 * w('mouthStretchRight') * jawOpen;
    const cornerY = (Ly + Ry) / 2;

    // the gap between the lips: the jaw and lower-lip-down open it; close/press/roll shut it
    const upperUp = (w('mouthUpperUpLeft') + w('mouthUpperUpRight')) / 2;
    const lowerDown = (w('mouthLowerDownLeft') + w('mouthLowerDownRight')) / 2;
    const press = (w('mouthPressLeft') + w('mouthPressRight')) / 2;
    const roll = (w('mouthRollLower') + w('mouthRollUpper')) / 2;
    let open = jawOpen * 32 + lowerDown * 7 + upperUp * 3 + funnel * 5 - w('mouthClose') * 24 - press * 4 - roll * 4;
    open = Math.max(0, open);
    const shrugU = w('mouthShrugUpper') * 3;
    const shrugL = w('mouthShrugLower') * 3;
    const upperInner = y0 - upperUp * 4 - open * 0.3 - shrugU;
    const lowerInner = y0 + open * 0.7 - shrugL;
    const thickU = 5 + 2.5 * pucker + 2 * funnel - 3 * w('mouthRollUpper');
    const thickL = 6.5 + 3 * pucker + 2 * funnel - 3.5 * w('mouthRollLower');
    const bow = upperInner - thickU;
    const lowerOuter = lowerInner + thickL;
    const ctrl = (yMid) => 2 * yMid - cornerY; // quadratic control point through yMid at the middle

    const inside = `M ${f(Rx)} ${f(Ry)} Q ${f(dx)} ${f(ctrl(upperInner))} ${f(Lx)} ${f(Ly)} ` +
      `Q ${f(dx)} ${f(ctrl(lowerInner))} ${f(Rx)} ${f(Ry)} Z`;
    this.mouthInside.setAttribute('d', inside);
    this.mouthClipPath.setAttribute('d', inside);
    this.lipUpper.setAttribute('d',
      `M ${f(Rx)} ${f(Ry)} C ${f(Rx + halfR * 0.35)} ${f(bow - 1)} ${f(dx - 6)} ${f(bow - 2)} ${f(dx)} ${f(bow + 0.8)} ` +
      `C ${f(dx + 6)} ${f(bow - 2)} ${f(Lx - halfL * 0.35)} ${f(bow - 1)} ${f(Lx)} ${f(Ly)} ` +
      `Q ${f(dx)} ${f(ctrl(upperInner))} ${f(Rx)} ${f(Ry)} Z`);
    this.lipLower.setAttribute('d',
      `M ${f(Rx)} ${f(Ry)} Q ${f(dx)} ${f(ctrl(lowerInner))} ${f(Lx)} ${f(Ly)} ` +
      `Q ${f(dx)} ${f(ctrl(lowerOuter + 1))} ${f(Rx)} ${f(Ry)} Z`);
    this.teethTop.setAttribute('x', f(dx - 22));
    this.teethTop.setAttribute('y', f(upperInner - 2));
    this.teethBottom.setAttribute('x', f(dx - 20));
    this.teethBottom.setAttribute('y', f(lowerInner - 3.5 - jawOpen * 2));
    this.tongue.setAttribute('cx', f(dx));
    this.tongue.setAttribute('cy', f(lowerInner - 1 + (1 - w('tongueOut')) * 2 + w('tongueOut') * 6));
    return open;
  }
}
