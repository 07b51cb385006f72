import pg from 'pg';

/**
 * Creates the simulator's OLTP databases afresh (live demo): drops each named database with its replication
 * slots (a slot pins its database) and creates it empty. Only for databases the simulator owns: everything in
 * them is lost.
 */
export async function recreateDatabases(urls: readonly string[]): Promise<void> {
  for (const url of urls) {
    const u = new URL(url);
    const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`refusing to recreate database "${name}"`);
    u.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: u.toString() });
    await admin.connect();
    try {
      const slots = await admin.query<{ slot_name: string; active_pid: number | null }>(
        'SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1',
        [name],
      );
      for (const s of slots.rows) {
        if (s.active_pid !== null) await admin.query('SELECT pg_terminate_backend($1)', [s.active_pid]);
        // A terminated backend releases its slot a moment later.
        for (let attempt = 0; ; attempt++) {
          try {
            await admin.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]);
            break;
          } catch (e) {
            if (attempt >= 20) throw e;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
  }
}
