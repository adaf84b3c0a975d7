// The live blendshape dashboard: one labelled bar per ARKit weight, grouped by face region.

import { ARKIT_BLENDSHAPES } from './protocol.js';

const GROUPS = [
  ['Eyes', (n) => n.startsWith('eye')],
  ['Jaw', (n) => n.startsWith('jaw')],
  ['Mouth', (n) => n.startsWith('mouth')],
  ['Brows, cheeks, nose, tongue', () => true],
];

export class WeightsDashboard {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.bars = new Array(ARKIT_BLENDSHAPES.length);
    this.values = new Array(ARKIT_BLENDSHAPES.length);
    this.rows = new Array(ARKIT_BLENDSHAPES.length);
    this.last = new Float32Array(ARKIT_BLENDSHAPES.length).fill(-1);
    const placed = new Set();
    for (const [title, test] of GROUPS) {
      const group = document.createElement('section');
      group.className = 'bs-group';
      const h = document.createElement('h3');
      h.textContent = title;
      group.appendChild(h);
      const list = document.createElement('div');
      list.className = 'bs-list';
      group.appendChild(list);
      ARKIT_BLENDSHAPES.forEach((name, i) => {
        if (placed.has(i) || !test(name)) return;
        placed.add(i);
        const row = document.createElement('div');
        row.className = 'bs-row';
        row.dataset.name = name;
        row.innerHTML = '<span class="bs-name"></span><span class="bs-track"><span class="bs-bar"></span></span><span class="bs-value">0.00</span>';
        row.querySelector('.bs-name').textContent = name;
        row.title = `${name} (column ${i})`;
        list.appendChild(row);
        this.rows[i] = row;
        this.bars[i] = row.querySelector('.bs-bar');
        this.values[i] = row.querySelector('.bs-value');
      });
      container.appendChild(group);
    }
  }

  /**
   * Show one frame of weights; only changed rows touch the DOM.
   * @param {Float32Array|null} weights 52 values, or null to clear
   */
  update(weights) {
    for (let i = 0; i < this.bars.length; i++) {
      const v = weights ? Math.min(1, Math.max(0, weights[i])) : 0;
      if (Math.abs(v - this.last[i]) < 0.004) continue;
      this.last[i] = v;
      this.bars[i].style.width = `${(v * 100).toFixed(1)}%`;
      this.values[i].textContent = v.toFixed(2);
      this.rows[i].classList.toggle('active', v >= 0.05);
    }
  }
}
