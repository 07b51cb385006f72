import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny local HTTP server for the ads fakes: records every request, can be told to fail the next requests
 * (rate limits, 5xx, auth) in the platform's own error format, and serves whatever ad rows it is given — so the
 * simulator can serve its data through the real wire formats. Loopback only.
 */

/** One campaign-day as the fakes hold it (platform-neutral; each fake renders its own wire format). */
export interface FakeAdRow {
  readonly date: string;
  readonly campaignId: string;
  readonly campaignName: string;
  readonly impressions: number;
  readonly clicks: number;
  /** Millionths of the account currency. */
  readonly spendMicros: bigint | number | string;
  readonly conversions: number;
}

export interface FakeAdAccount {
  readonly id: string;
  readonly timezone: string;
  readonly currency: string;
  rows: FakeAdRow[];
}

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

export interface FakeResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Bytes sent as they are instead of `body` as JSON (a gzipped report file). */
  readonly raw?: Buffer;
}

export interface Fault extends FakeResponse {
  /** Only requests whose path contains this; default every request. */
  readonly match?: string;
  /** How many matching requests fail (default 1). */
  readonly times?: number;
}

export interface FakeServer {
  readonly url: string;
  readonly requests: FakeRequest[];
  /** Queue a failure for the next matching request(s). */
  fail(fault: Fault): void;
  close(): Promise<void>;
}

export async function startFakeServer(handle: (req: FakeRequest) => FakeResponse): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const faults: { fault: Fault; left: number }[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        /* keep text */
      }
      const fr: FakeRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      };
      requests.push(fr);
      let out: FakeResponse;
      const f = faults.find(
        (x) => x.left > 0 && (x.fault.match === undefined || fr.path.includes(x.fault.match)),
      );
      if (f) {
        f.left--;
        out = f.fault;
      } else {
        try {
          out = handle(fr);
        } catch (e) {
          out = { status: 500, body: { fake_error: (e as Error).message } };
        }
      }
      if (out.raw !== undefined) {
        res.writeHead(out.status, { 'content-type': 'application/octet-stream', ...out.headers });
        res.end(out.raw);
        return;
      }
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
      res.end(out.body === undefined ? '' : JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail(fault) {
      faults.push({ fault, left: fault.times ?? 1 });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** `1230000` micros → `"1.23"` (major units as the APIs that send decimals write them). */
export function microsToDecimal(micros: bigint | number | string): string {
  const m = BigInt(micros);
  const neg = m < 0n;
  const abs = neg ? -m : m;
  const frac = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / 1_000_000n}${frac ? `.${frac}` : ''}`;
}

export function rowsBetween(account: FakeAdAccount, from: string, to: string): FakeAdRow[] {
  return account.rows
    .filter((r) => r.date >= from && r.date <= to)
    .sort((a, b) => a.date.localeCompare(b.date) || a.campaignId.localeCompare(b.campaignId));
}
