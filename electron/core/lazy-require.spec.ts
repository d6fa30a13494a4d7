import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const lazyRequire = fileURLToPath(new URL('./lazy-require.ts', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

// In a fresh process: the require cache of this one may hold dockerode whole from another spec.
const script = `
import { createRequire } from 'node:module';
const { dockerodeModule } = await import(${JSON.stringify(lazyRequire)});
const req = createRequire(${JSON.stringify(join(root, 'package.json'))});
const loaded = (part) => Object.keys(req.cache).filter((p) => p.includes(part)).length;
const Docker = dockerodeModule();
new Docker({ socketPath: '/nonexistent.sock' }).getContainer('x');
const before = { grpc: loaded('@grpc/'), protobuf: loaded('protobufjs'), tar: loaded('/tar-stream/') + loaded('/tar-fs/node_modules/') };
// What dockerode's util.js holds is the stand-in: the first use loads the real tar-fs.
const tar = createRequire(req.resolve('dockerode/lib/util.js'))('tar-fs');
const pack = typeof tar.pack;
console.log(JSON.stringify({ before, pack, after: { tar: loaded('/tar-stream/') + loaded('/tar-fs/node_modules/') } }));
`;

describe('dockerode, loaded lazily', () => {
  it('leaves out BuildKit sessions (grpc, protobufjs) and tar-fs until they are used', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-lazy-'));
    const file = join(dir, 'probe.mts');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { before: Record<string, number>; pack: string; after: { tar: number } };
    expect(out.before).toEqual({ grpc: 0, protobuf: 0, tar: 0 });
    expect(out.pack).toBe('function');
    expect(out.after.tar).toBeGreaterThan(0);
  });
});
