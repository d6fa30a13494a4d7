import { createHash } from 'node:crypto';
import { OutpostError } from '../../../shared/errors';
import { quoteArg } from '../transport/shell-quote';
import type { ConsoleDriver } from './console-driver';

export interface SendPlan {
  tmp: string;
  chunks: string[];
  sha256: string;
  finish: string[];
}

/**
 * A file over a console with no network: base64 in chunks that fit a tty line (the canonical line limit is
 * 4095 bytes), appended to a temporary file, decoded and checked with sha256sum on the device before it is moved
 * into place. Nothing replaces the destination unless the checksum matches.
 */
export function planSend(data: Buffer, to: string, mode: string, chunkChars: number): SendPlan {
  if (!to.startsWith('/')) throw new OutpostError('invalid-input', `destination ${to} must be an absolute path on the device`);
  const size = Math.max(4, Math.floor(chunkChars / 4) * 4);
  const b64 = data.toString('base64');
  const chunks: string[] = [];
  for (let i = 0; i < b64.length; i += size) chunks.push(b64.slice(i, i + size));
  const tmp = `${to}.outpost-part`;
  return {
    tmp,
    chunks,
    sha256: createHash('sha256').update(data).digest('hex'),
    finish: [`base64 -d < ${quoteArg(`${tmp}.b64`)} > ${quoteArg(tmp)} && sha256sum ${quoteArg(tmp)}`],
  };
}

export async function sendFile(
  driver: ConsoleDriver,
  data: Buffer,
  to: string,
  mode: string,
  chunkChars: number,
  progress: (done: number, total: number) => void,
): Promise<{ bytes: number; sha256: string; chunks: number; verified: boolean }> {
  const plan = planSend(data, to, mode, chunkChars);
  const part = quoteArg(`${plan.tmp}.b64`);
  const tools = await driver.run('command -v base64 >/dev/null && command -v sha256sum >/dev/null');
  if (tools.exitCode !== 0) throw new OutpostError('unsupported', 'the device has no base64 or sha256sum (coreutils or busybox): it cannot receive a file over the console');
  await driver.check(`rm -f ${part} ${quoteArg(plan.tmp)} && : > ${part}`);
  let sent = 0;
  progress(0, data.length);
  for (const chunk of plan.chunks) {
    await driver.check(`printf '%s' ${quoteArg(chunk)} >> ${part}`);
    sent += (chunk.length / 4) * 3;
    progress(Math.min(sent, data.length), data.length);
  }
  const out = await driver.run(plan.finish[0] as string);
  const got = /^([0-9a-f]{64})\b/m.exec(out.output)?.[1];
  if (out.exitCode !== 0 || got !== plan.sha256) {
    await driver.run(`rm -f ${part} ${quoteArg(plan.tmp)}`);
    throw new OutpostError('integrity', `the file arrived damaged on the device (sha256 ${got ?? 'unreadable'}, expected ${plan.sha256}); nothing was replaced`);
  }
  await driver.check(`chmod ${quoteArg(mode)} ${quoteArg(plan.tmp)} && mv -f ${quoteArg(plan.tmp)} ${quoteArg(to)} && rm -f ${part}`);
  return { bytes: data.length, sha256: plan.sha256, chunks: plan.chunks.length, verified: true };
}
