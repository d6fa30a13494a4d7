// Store management, online status, cancel and the per-device lock, against real devices, a real mosquitto and real
// CLI processes sharing one $OUTPOST_HOME. One lab for the whole file.
// Run: OUTPOST_LAB_ID=<id> bash tests/lab/in-lab.sh npx vitest run --project lab tests/lab/ops.test.ts
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjsonSegment, produce, remaining, type Produced } from './buffers-fixtures';
import { startLab, type Lab } from './lab';
import { mosquitto } from './mosquitto';
import { run } from './util';

let lab: Lab;
const broker = mosquitto(() => ['allow_anonymous true']);

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'ops-a' }] });
  await broker.start();
});

afterAll(async () => {
  await broker.stop();
  await lab?.teardown();
});

/** The real CLI, as a technician runs it, on one data dir. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CLI output is asserted field by field below
type Json = any;
async function outpost(home: string, ...args: string[]): Promise<{ code: number; json: Json; stderr: string }> {
  const r = await run([process.execPath, 'bin/outpost.mjs', ...args, '--json'], { env: { ...process.env, OUTPOST_HOME: home }, timeoutMs: 120_000 });
  let json: unknown = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`outpost ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

describe('store prune (CLI)', () => {
  it('deletes only what went upstream unless forced, previews first, and keeps the quota total exact', async () => {
    const dev = lab.device('ops-a');
    const home = mkdtempSync(join(tmpdir(), 'outpost-prune-'));
    const ssh = ['--identity', lab.clientKeyPath, '--yes'];
    const sent: Produced[] = [];
    for (let i = 0; i < 6; i++) sent.push(produce(dev, 'telemetry', `t-${i}.ndjson`, ndjsonSegment('telemetry', i, 20_000), { sidecar: true }));
    expect((await outpost(home, 'flush', dev.ip, ...ssh)).code).toBe(0);
    const pushed = await outpost(home, 'upstream', 'push', '--mqtt', `mqtt://127.0.0.1:${broker.port}`);
    expect(pushed.code).toBe(0);
    expect(pushed.json.segmentsForwarded).toBe(6);
    // Flushed after the push: held only here.
    const local: Produced[] = [];
    for (let i = 0; i < 4; i++) local.push(produce(dev, 'events', `e-${i}.ndjson`, ndjsonSegment('events', i, 10_000), { sidecar: true }));
    expect((await outpost(home, 'flush', dev.ip, ...ssh)).code).toBe(0);
    expect(remaining(dev)).toEqual([]);
    const bytes = (list: Produced[]) => list.reduce((a, p) => a + p.bytes, 0);
    const quota = await outpost(home, 'store', 'quota');
    expect(quota.json.usedBytes).toBe(bytes(sent) + bytes(local));

    const refused = await outpost(home, 'store', 'prune');
    expect(refused.code).toBe(2);
    expect(refused.json.error.kind).toBe('invalid-input');

    const preview = await outpost(home, 'store', 'prune', '--device', dev.ip, '--dry-run');
    expect(preview.code).toBe(0);
    expect(preview.json).toMatchObject({ dryRun: true, segments: 6, bytes: bytes(sent), freedBytes: bytes(sent), keptSegments: 4, keptBytes: bytes(local) });
    const blobs = readdirSync(join(home, 'buffers', 'segments')).length;
    expect(blobs).toBe(10);

    const pruned = await outpost(home, 'store', 'prune', '--device', dev.ip);
    expect(pruned.json).toMatchObject({ dryRun: false, segments: 6, freedBytes: bytes(sent), keptSegments: 4, usedBytes: bytes(local) });
    expect(readdirSync(join(home, 'buffers', 'segments'))).toHaveLength(4);
    const listed = await outpost(home, 'store', 'list');
    expect(listed.json.segments.map((s: { stream: string }) => s.stream)).toEqual(['events', 'events', 'events', 'events']);
    expect(listed.json.totalBytes).toBe(bytes(local));

    // Never forwarded: only --force takes them.
    expect((await outpost(home, 'store', 'prune', '--older-than', '0s')).json).toMatchObject({ segments: 0, keptSegments: 4 });
    const forced = await outpost(home, 'store', 'prune', '--stream', 'events', '--force');
    expect(forced.json).toMatchObject({ segments: 4, freedBytes: bytes(local), usedBytes: 0 });
    expect(readdirSync(join(home, 'buffers', 'segments'))).toEqual([]);
  });
});
