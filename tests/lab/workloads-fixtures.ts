// Images and helpers for the workloads lab tests: two-layer-plus images built offline on a builder device,
// exported with `docker save` through that device's engine, and a plain HTTP probe.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import { buildImage, importBusyboxImage, type LabDevice } from './lab';

export const BASE = 'outpost/busybox:lab';
export const WEB_PORT = 8081;

const healthcheck = (port: number) => ['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}/`];

export interface LabImages {
  /** base + a 1 MiB "library" layer + the server (index says v1) */
  v1: string;
  /** v1 + a 256 KiB top layer (index says v2): an upgrade where only the top layer changed */
  v2: string;
  /** v1 + a top layer whose healthcheck can never pass */
  bad: string;
  topLayerBytes: number;
}

/** Builds the images on `builder` and `docker save`s each into `dir`; every device gets the base image. */
export async function buildLabImages(builder: LabDevice, all: LabDevice[], dir: string, topBytes = 256 * 1024): Promise<LabImages & { archives: Record<'v1' | 'v2' | 'bad', string> }> {
  await Promise.all(all.map((d) => importBusyboxImage(d, BASE)));
  // sh stays pid 1 and ends on SIGTERM (busybox httpd as pid 1 ignores it: every stop would wait the full 10 s).
  const run = `#!/bin/sh\ntrap 'exit 0' TERM\necho "web: serving $(cat /www/index.html) on port \${PORT:-${WEB_PORT}}"\nhttpd -f -p \${PORT:-${WEB_PORT}} -h /www &\nwait\n`;
  await buildImage(builder, 'outpost/app:1', {
    from: BASE,
    files: { '/app/run.sh': run, '/www/index.html': 'v1\n', '/lib/payload.bin': randomBytes(1024 * 1024) },
    cmd: ['/app/run.sh'],
    healthcheck: healthcheck(WEB_PORT),
  });
  const top = randomBytes(topBytes);
  await buildImage(builder, 'outpost/app:2', { from: 'outpost/app:1', files: { '/www/index.html': 'v2\n', '/www/extra.bin': top }, cmd: ['/app/run.sh'], healthcheck: healthcheck(WEB_PORT) });
  await buildImage(builder, 'outpost/app:bad', { from: 'outpost/app:1', files: { '/www/index.html': 'bad\n' }, cmd: ['/app/run.sh'], healthcheck: ['false'] });
  const docker = new Docker({ socketPath: builder.dockerSocketHostPath });
  mkdirSync(dir, { recursive: true });
  const archives = { v1: join(dir, 'app1.tar'), v2: join(dir, 'app2.tar'), bad: join(dir, 'bad.tar') };
  for (const [key, ref] of [['v1', 'outpost/app:1'], ['v2', 'outpost/app:2'], ['bad', 'outpost/app:bad']] as const) {
    await pipeline((await docker.getImage(ref).get()) as unknown as Readable, createWriteStream(archives[key]));
  }
  const v2 = await docker.getImage('outpost/app:2').history();
  const topLayerBytes = (v2 as Array<{ Size: number }>).find((h) => h.Size > 0)?.Size ?? 0;
  return { v1: 'outpost/app:1', v2: 'outpost/app:2', bad: 'outpost/app:bad', topLayerBytes, archives };
}

export function httpGet(host: string, port: number, path = '/', timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.end();
  });
}

/** The entries of a zip, read with Python's zipfile (no zip reader is installed on the Node side). */
export async function zipEntries(path: string): Promise<Record<string, string>> {
  const { execFile } = await import('node:child_process');
  const script = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n: z.read(n).decode("utf8","replace") for n in z.namelist()}))';
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, path], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as Record<string, string>)));
  });
}

/** A tar on disk whose entries the test chooses, to feed the importer archives an honest tool never writes. */
export function rewriteTar(source: string, out: string, edit: (buf: Buffer) => Buffer): string {
  writeFileSync(out, edit(readFileSync(source)));
  return out;
}
