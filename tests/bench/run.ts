// `npm run bench`: starts a lab, runs every row module in tests/bench/rows/, prints one table.
// Runs inside the lab's technician netns (package.json wraps it with tests/lab/in-lab.sh).
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCore } from '../../electron/core/app';
import { assertInTechNetns, startLab, type DeviceSpec } from '../lab/lab';
import { formatTable } from './format';
import type { BenchRow, RowsModule } from './types';

const deviceCount = Number(process.env.OUTPOST_BENCH_DEVICES ?? 50);
const only = process.env.OUTPOST_BENCH_ONLY?.split(',');

async function main(): Promise<void> {
  assertInTechNetns();
  const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
  const specs: DeviceSpec[] = Array.from({ length: deviceCount }, (_, i) => ({ name: `bench-${String(i).padStart(2, '0')}`, docker: i < 1 }));
  log(`starting a lab of ${specs.length} devices`);
  const lab = await startLab({ devices: specs });
  const dataDir = mkdtempSync(join(tmpdir(), 'outpost-bench-'));
  const core = createCore({ dataDir, transport: 'in-process' });
  const rows: BenchRow[] = [];
  const dir = fileURLToPath(new URL('./rows/', import.meta.url));
  try {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
      const area = file.replace(/\.ts$/, '');
      if (only && !only.includes(area)) continue;
      log(`rows: ${area}`);
      const mod = (await import(join(dir, file))) as RowsModule;
      try {
        rows.push(...(await mod.rows({ lab, core, dataDir, log })));
      } catch (err) {
        log(`${area} failed: ${(err as Error).stack ?? String(err)}`);
        process.exitCode = 1;
      }
    }
  } finally {
    await core.close();
    await lab.teardown();
  }
  process.stdout.write(`${formatTable(rows)}\n`);
}

await main();
