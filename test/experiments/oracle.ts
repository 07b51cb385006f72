/**
 * Runs gbstats (GrowthBook's engine, PyPI gbstats==0.8.0) as a reference oracle: one python process
 * per batch of cases, in the venv that scripts/python-venv.sh creates in the per-user cache (~/.cache/tessera/venv-py-<hash>).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

/**
 * Creates the venv if missing (idempotent, quick when present) and returns its python. Throws with the
 * script's output when it cannot, so the suite fails loudly instead of skipping.
 */
export function ensureVenv(): string {
  try {
    const out = execFileSync('bash', [path.join(repo, 'scripts/python-venv.sh')], {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15 * 60_000,
    });
    const python = out.trim().split('\n').pop() ?? '';
    if (!python.endsWith('/python')) throw new Error(`unexpected output: ${out}`);
    return python;
  } catch (e) {
    const err = e as { message?: string; stderr?: string };
    throw new Error(
      `The gbstats oracle venv (scripts/python-venv.sh, in ~/.cache/tessera) is missing and scripts/python-venv.sh could not create it.\n` +
        `${err.message ?? String(e)}\n${err.stderr ?? ''}`,
    );
  }
}

/** JSON value as the oracle writes it, with non-finite floats encoded as strings. */
export type OracleValue = number | string | boolean | null | OracleValue[] | { [k: string]: OracleValue };

/** Restores the non-finite numbers the oracle and the fixture write as strings. */
export function decodeOracle(v: OracleValue): OracleValue {
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (Array.isArray(v)) return v.map(decodeOracle);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decodeOracle(x)]));
  return v;
}

export type OracleKind = 'frequentist' | 'sequential' | 'bayesian' | 'srm' | 'corrections' | 'experiment';

/** Runs all cases of one kind through gbstats in a single python process. */
export function runOracle(
  python: string,
  kind: OracleKind,
  cases: readonly unknown[],
): Record<string, OracleValue>[] {
  const out = execFileSync(python, [path.join(here, 'gbstats_oracle.py')], {
    input: JSON.stringify({ kind, cases }),
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    timeout: 5 * 60_000,
  });
  const parsed = JSON.parse(out) as { results: OracleValue[] };
  if (parsed.results.length !== cases.length)
    throw new Error(`oracle returned ${parsed.results.length} results`);
  return parsed.results.map((r) => decodeOracle(r) as Record<string, OracleValue>);
}
