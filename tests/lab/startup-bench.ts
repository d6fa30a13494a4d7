// Measures lab startup/teardown times. Run: bash tests/lab/in-lab.sh npx tsx tests/lab/startup-bench.ts [counts...]
import { startLab, type DeviceSpec } from './lab.js';

const cases: Array<[string, DeviceSpec[]]> = [
  ['1 device with docker', [{ name: 'gw-0', docker: true }]],
  ...(process.argv.slice(2).length ? process.argv.slice(2).map(Number) : [20, 50]).map((n): [string, DeviceSpec[]] =>
    [`${n} ssh-only devices`, Array.from({ length: n }, (_, i) => ({ name: `gw-${i}` }))]),
];
for (const [label, devices] of cases) {
  const t0 = performance.now();
  const lab = await startLab({ devices });
  const t1 = performance.now();
  await lab.teardown();
  const t2 = performance.now();
  console.log(`${label}: start ${Math.round(t1 - t0)} ms, teardown ${Math.round(t2 - t1)} ms`);
}
