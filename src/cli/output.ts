/** Printing: JSON for machines (`--json`), aligned text for people. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): void {
  if (rows.length === 0 && !columns) {
    process.stdout.write('(no rows)\n');
    return;
  }
  const cols = columns ?? Object.keys(rows[0] ?? {});
  const text = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(cols)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => text(r[c])))}\n`);
  if (rows.length === 0) process.stdout.write('(no rows)\n');
}

/** RFC 4180 CSV: a header line, then one line per row; NULL is an empty field, objects are JSON. */
export function printCsv(rows: readonly Record<string, unknown>[], columns: readonly string[]): void {
  const field = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [columns.map(field).join(',')];
  for (const r of rows) lines.push(columns.map((c) => field(r[c])).join(','));
  process.stdout.write(`${lines.join('\r\n')}\r\n`);
}
