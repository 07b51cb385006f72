/**
 * Layered layout of the lineage graph with ELK (elkjs, the Eclipse Layout Kernel's layered algorithm).
 *
 * ELK runs in a worker thread: a 1,000-asset catalog takes seconds to lay out and the server must keep
 * answering meanwhile. Results are cached in memory and on disk (`<stateDir>/ui/layout-<hash>.json`, keyed by
 * the graph's nodes and edges), so only the first server over a catalog pays for it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface LayoutInput {
  readonly nodes: readonly { readonly id: string; readonly width: number; readonly height: number }[];
  readonly edges: readonly { readonly from: string; readonly to: string }[];
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodes: Readonly<Record<string, { readonly x: number; readonly y: number }>>;
  /** Edge `from→to` → its polyline. */
  readonly edges: Readonly<Record<string, readonly { readonly x: number; readonly y: number }[]>>;
  readonly ms: number;
}

/** Above this many nodes ELK is told to spend less effort on crossings (seconds instead of tens). */
const LARGE = 300;

// Plain JavaScript: the worker loads no TypeScript, only elkjs's self-contained bundle.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ELK = require(workerData.elkPath);
const elk = new ELK();
parentPort.on('message', async ({ id, graph }) => {
  try {
    const t0 = performance.now();
    const out = await elk.layout(graph);
    parentPort.postMessage({ id, out, ms: performance.now() - t0 });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message ? e.message : e) });
  }
});
`;

interface ElkOut {
  width?: number;
  height?: number;
  children?: { id: string; x?: number; y?: number }[];
  edges?: {
    id: string;
    sections?: {
      startPoint: { x: number; y: number };
      endPoint: { x: number; y: number };
      bendPoints?: { x: number; y: number }[];
    }[];
  }[];
}

type Reply = { id: number; out: ElkOut; ms: number } | { id: number; error: string };

export class GraphLayouter {
  private worker: Worker | undefined;
  private next = 0;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly memory = new Map<string, Promise<Layout>>();

  constructor(private readonly cacheDir: string | undefined) {}

  layout(input: LayoutInput): Promise<Layout> {
    const hash = createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 20);
    let found = this.memory.get(hash);
    if (!found) {
      found = this.cachedOrComputed(hash, input);
      this.memory.set(hash, found);
      found.catch(() => this.memory.delete(hash));
    }
    return found;
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private async cachedOrComputed(hash: string, input: LayoutInput): Promise<Layout> {
    const file = this.cacheDir ? join(this.cacheDir, `layout-${hash}.json`) : undefined;
    if (file) {
      try {
        return { ...(JSON.parse(readFileSync(file, 'utf8')) as Layout), ms: 0 };
      } catch {
        // Not cached yet (or unreadable): compute it.
      }
    }
    const layout = await this.compute(input);
    if (file && this.cacheDir) {
      mkdirSync(this.cacheDir, { recursive: true });
      writeFileSync(file, JSON.stringify(layout));
    }
    return layout;
  }

  private async compute(input: LayoutInput): Promise<Layout> {
    const large = input.nodes.length > LARGE;
    const graph = {
      id: 'root',
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': 'RIGHT',
        'elk.spacing.nodeNode': '12',
        'elk.layered.spacing.nodeNodeBetweenLayers': '60',
        'elk.edgeRouting': 'POLYLINE',
        ...(large ? { 'elk.layered.thoroughness': '1' } : {}),
      },
      children: input.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
      edges: input.edges.map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
    };
    const reply = await this.send(graph);
    if ('error' in reply) throw new Error(`graph layout failed: ${reply.error}`);
    const nodes: Record<string, { x: number; y: number }> = {};
    for (const c of reply.out.children ?? []) nodes[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
    const edges: Record<string, { x: number; y: number }[]> = {};
    for (const e of reply.out.edges ?? []) {
      const source = input.edges[Number(e.id.slice(1))];
      const s = e.sections?.[0];
      if (!source || !s) continue;
      edges[`${source.from}→${source.to}`] = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
    }
    return { width: reply.out.width ?? 0, height: reply.out.height ?? 0, nodes, edges, ms: reply.ms };
  }

  private send(graph: unknown): Promise<Reply> {
    if (!this.worker) {
      const elkPath = createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js');
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { elkPath } });
      worker.on('message', (r: Reply) => {
        this.waiting.get(r.id)?.(r);
        this.waiting.delete(r.id);
      });
      worker.on('error', (e) => {
        for (const [id, resolve] of this.waiting) resolve({ id, error: e.message });
        this.waiting.clear();
        this.worker = undefined;
      });
      worker.unref();
      this.worker = worker;
    }
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker?.postMessage({ id, graph });
    });
  }
}
