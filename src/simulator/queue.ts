/**
 * The discrete-event queue: actions run in time order (ties in scheduling order), so every change is
 * applied to the state as of its own time and update images are always the row as it then was.
 */

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly run: (at: number) => void;
}

export class EventQueue {
  private readonly heap: Entry[] = [];
  private seq = 0;
  /** Time of the action being run (µs). */
  now = 0;

  /** `end`: actions at or after it are dropped (the simulated window is over). */
  constructor(private readonly end: number) {}

  schedule(at: number, run: (at: number) => void): void {
    if (at >= this.end) return;
    const e: Entry = { at: Math.max(at, this.now), seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p] as Entry)) break;
      h[i] = h[p] as Entry;
      i = p;
    }
    h[i] = e;
  }

  /** Runs the next action; false when none is left. */
  step(): boolean {
    const h = this.heap;
    const top = h[0];
    if (!top) return false;
    const last = h.pop() as Entry;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < h.length && before(h[l] as Entry, best)) {
          m = l;
          best = h[l] as Entry;
        }
        if (r < h.length && before(h[r] as Entry, best)) {
          m = r;
          best = h[r] as Entry;
        }
        if (m === i) break;
        h[i] = best;
        i = m;
      }
      h[i] = last;
    }
    this.now = top.at;
    top.run(top.at);
    return true;
  }

  get size(): number {
    return this.heap.length;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
