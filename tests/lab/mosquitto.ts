// A real mosquitto for upstream tests, on the technician netns' loopback: config from the caller's lines, stopped
// (SIGTERM, waited for) and restarted on demand, its log and persistence in a temp dir of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './lab';

export interface Broker {
  port: number;
  dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `config(dir)` returns the lines after the listener and log lines; `dir` is the broker's own (persistence). */
export function mosquitto(config: (dir: string) => string[]): Broker {
  const port = 18830 + Math.floor(Math.random() * 1000);
  const dir = mkdtempSync(join(tmpdir(), 'outpost-mosquitto-'));
  // Started as root, mosquitto drops to its own user: it must be able to write its persistence file and log here.
  chmodSync(dir, 0o777);
  writeFileSync(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, `log_dest file ${dir}/mosquitto.log`, ...config(dir), ''].join('\n'));
  let child: ChildProcess | null = null;
  return {
    port,
    dir,
    async start() {
      const c = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
      child = c;
      await waitFor(`mosquitto to listen on 127.0.0.1:${port} (log ${dir}/mosquitto.log)`, () => {
        if (c.exitCode !== null) throw new Error(`mosquitto exited ${c.exitCode}; see ${dir}/mosquitto.log`);
        return new Promise((resolve) => {
          const s = tcpConnect(port, '127.0.0.1', () => (s.end(), resolve(true)));
          s.on('error', () => resolve(false));
        });
      }, 10_000);
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    },
  };
}
