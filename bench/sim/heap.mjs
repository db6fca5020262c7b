// A binary min-heap for the simulations' event queues (bench/sim/groups.mjs, bench/sim/swarm.mjs): items in the
// order `less` gives, ties in whatever order `less` breaks them (both break them by a sequence number).
export class Heap {
  constructor(less) {
    this.less = less;
    this.items = [];
  }

  get size() {
    return this.items.length;
  }

  /** The least item, left in place (undefined when empty). */
  peek() {
    return this.items[0];
  }

  push(item) {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  /** Takes the least item out (undefined when empty). */
  pop() {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }

  clear() {
    this.items.length = 0;
  }
}
