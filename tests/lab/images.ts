// Offline container images for lab devices: no registry is reachable, so the base image is a
// busybox-static rootfs fed to `docker import`, and further layers come from `docker build`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { LabDevice } from './device.js';
import { runOk } from './util.js';

const REF_RE = /^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]{1,128})?$/;

function checkRef(ref: string): void {
  if (!REF_RE.test(ref) || ref.length > 200) throw new Error(`invalid image reference ${JSON.stringify(ref)}`);
}

/** The lab state dir of a device (its root is <stateDir>/d/<name>). */
const stateDirOf = (dev: LabDevice): string => dirname(dirname(dev.root));

const rootfsTars = new Map<string, Promise<Buffer>>();

/** Built once per lab state dir; concurrent callers share one build. */
function busyboxRootfsTar(stateDir: string): Promise<Buffer> {
  let p = rootfsTars.get(stateDir);
  if (!p) {
    p = buildBusyboxRootfsTar(stateDir);
    rootfsTars.set(stateDir, p);
    p.catch(() => rootfsTars.delete(stateDir));
  }
  return p;
}

async function buildBusyboxRootfsTar(stateDir: string): Promise<Buffer> {
  const tarPath = join(stateDir, 'images', 'busybox-rootfs.tar');
  if (!existsSync(tarPath)) {
    const dir = join(stateDir, 'images', 'busybox-rootfs');
    rmSync(dir, { recursive: true, force: true });
    for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev', 'var/run', 'var/log']) mkdirSync(join(dir, d), { recursive: true });
    chmodSync(join(dir, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
    chmodSync(join(dir, 'bin/busybox'), 0o755);
    const list = await runOk(['/bin/busybox', '--list']);
    for (const applet of list.stdout.split('\n').map((s) => s.trim())) {
      if (/^[a-z0-9_.[-]+$/.test(applet) && applet !== 'busybox') symlinkSync('busybox', join(dir, 'bin', applet));
    }
    writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await runOk(['tar', '--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', `${tarPath}.tmp`, '.']);
    await runOk(['mv', `${tarPath}.tmp`, tarPath]);
  }
  return readFileSync(tarPath);
}

/** `docker import` of a busybox-static rootfs into the device's engine (offline). CMD is `sh`. */
export async function importBusyboxImage(dev: LabDevice, tag: string): Promise<void> {
  checkRef(tag);
  const tar = await busyboxRootfsTar(stateDirOf(dev));
  const r = await dev.exec(['docker', '-H', `unix://${dev.dockerSocket ?? '/var/run/docker.sock'}`, 'import', '--change', 'CMD ["sh"]', '-', tag], { input: tar });
  if (r.code !== 0) throw new Error(`docker import on ${dev.name} failed: ${r.stderr.trim()}`);
}

export interface BuildImageOptions {
  from: string;
  files: Record<string, string | Buffer>; // path inside the image → content ("#!" files become executable)
  cmd?: string[];
  healthcheck?: string[]; // exec-form HEALTHCHECK, checked every second
  env?: Record<string, string>;
}

/** Offline `docker build` (classic builder) on the device: FROM + one COPY layer + CMD/HEALTHCHECK. */
export async function buildImage(dev: LabDevice, tag: string, opts: BuildImageOptions): Promise<void> {
  checkRef(tag);
  checkRef(opts.from);
  const buildRoot = join(stateDirOf(dev), 'build');
  mkdirSync(buildRoot, { recursive: true });
  const ctx = mkdtempSync(join(buildRoot, `${dev.name}-`));
  try {
    mkdirSync(join(ctx, 'files'));
    for (const [p, content] of Object.entries(opts.files)) {
      const rel = normalize(p.replace(/^\/+/, ''));
      if (rel.startsWith('..') || rel === '.' || rel.includes('\0')) throw new Error(`invalid image file path ${JSON.stringify(p)}`);
      const target = join(ctx, 'files', rel);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      const text = typeof content === 'string' ? content : content.subarray(0, 2).toString('latin1');
      chmodSync(target, text.startsWith('#!') ? 0o755 : 0o644);
    }
    const lines = [`FROM ${opts.from}`, 'COPY files/ /'];
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid env name ${k}`);
      lines.push(`ENV ${k}=${JSON.stringify(v)}`);
    }
    if (opts.healthcheck) lines.push(`HEALTHCHECK --interval=1s --timeout=5s --retries=3 CMD ${JSON.stringify(opts.healthcheck)}`);
    if (opts.cmd) lines.push(`CMD ${JSON.stringify(opts.cmd)}`);
    writeFileSync(join(ctx, 'Dockerfile'), lines.join('\n') + '\n');
    await runOk(['tar', '--numeric-owner', '--owner=0', '--group=0', '-C', ctx, '-cf', join(ctx, 'context.tar'), 'Dockerfile', 'files']);
    const r = await dev.exec(['docker', '-H', `unix://${dev.dockerSocket ?? '/var/run/docker.sock'}`, 'build', '-q', '-t', tag, '-'], { input: readFileSync(join(ctx, 'context.tar')) });
    if (r.code !== 0) throw new Error(`docker build of ${tag} on ${dev.name} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}
