// Serial rows, over the lab's agetty+login console pty (whose far end scrambles unless the speed matches):
// 1. open → identified (auto-baud, login, identify) by Outpost, against a scripted Debian `expect` session that logs in
//    at the known rate and runs the same identify line, in the same run;
// 2. one command round trip through the console driver (markers, expecter), against a raw write of the same bytes
//    and a plain read until the end marker.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inProcessApi } from '../../../electron/core/app';
import { ConsoleDriver } from '../../../electron/core/serial/console-driver';
import { wrapCommand } from '../../../electron/core/serial/console-patterns';
import { IDENTIFY_SCRIPT, parseIdentity } from '../../../electron/core/serial/identify';
import { DEFAULT_SETTINGS, SerialLine } from '../../../electron/core/serial/serial-line';
import type { BenchContext, BenchRow } from '../types';

const ROUNDS = 5;
const TRIPS = 30;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** The anchor: what a technician scripts today with expect(1) — fixed rate, login, the same identify line. */
function expectScript(path: string, password: string): string {
  const tclQuote = (s: string) => `{${s}}`;
  return `set timeout 20
log_user 0
set fd [open ${tclQuote(path)} r+]
fconfigure $fd -mode 115200,n,8,1 -translation binary -buffering none
spawn -open $fd
send "\\025\\r"
expect {
  -re {login: *$} { send "root\\r"; exp_continue }
  -re {Password: *$} { send "${password}\\r"; exp_continue }
  -re {# *$} {}
  timeout { puts "TIMEOUT-LOGIN"; exit 2 }
}
send -- ${tclQuote(`echo "OP_""BEGIN_x"; ${IDENTIFY_SCRIPT}; echo "OP_""END_x:$?"`)}
send "\\r"
expect {
  -re {OP_BEGIN_x\\r?\\n(.*)OP_END_x:0} { puts $expect_out(1,string) }
  timeout { puts "TIMEOUT-IDENTIFY"; exit 2 }
}
send "exit\\r"
exit 0
`;
}

function runExpect(script: string): Promise<{ ms: number; stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('expect', ['-f', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, stdout, code }));
  });
}

export async function rows(ctx: BenchContext): Promise<BenchRow[]> {
  const dev = await ctx.lab.addDevice({ name: 'bench-serial', ssh: false, serial: true });
  const path = dev.serialPath as string;
  const password = dev.serialPassword as string;
  const api = inProcessApi(ctx.core);
  const scriptFile = join(mkdtempSync(join(tmpdir(), 'outpost-bench-serial-')), 'identify.exp');
  writeFileSync(scriptFile, expectScript(path, password), { mode: 0o600 });
  try {
    const ours: number[] = [];
    const anchor: number[] = [];
    let hostname = '';
    let anchorHostname = '';
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const id = await api.invoke('serial:identify', { path, baud: 'auto', user: 'root', password });
      ours.push(performance.now() - started);
      hostname = id.hostname;
      const e = await runExpect(scriptFile);
      if (e.code !== 0) throw new Error(`expect exited with ${e.code}: ${e.stdout.slice(-200)}`);
      anchor.push(e.ms);
      anchorHostname = parseIdentity(e.stdout.replace(/\r/g, '')).hostname;
      ctx.log(`serial identify round ${round + 1}: ours ${Math.round(ours.at(-1) ?? 0)} ms (${hostname}), expect ${Math.round(e.ms)} ms (${anchorHostname})`);
    }

    // Round trips on one open, logged-in line: ours through the driver, the anchor as raw bytes.
    const line = await SerialLine.open(path, DEFAULT_SETTINGS);
    const driver = new ConsoleDriver(line);
    const trips: number[] = [];
    const raw: number[] = [];
    try {
      await driver.login({ user: 'root', password }, 20_000);
      for (let i = 0; i < TRIPS; i++) {
        let t = performance.now();
        await driver.run('true');
        trips.push(performance.now() - t);
        const { line: typed } = wrapCommand('true', 'rawanchor');
        t = performance.now();
        await new Promise<void>((resolve, reject) => {
          let seen = '';
          const timer = setTimeout(() => reject(new Error('raw round trip: no end marker within 10 s')), 10_000);
          const off = line.subscribe(
            (b) => {
              seen += b.toString('latin1');
              if (seen.includes('OP_END_rawanchor:0')) {
                clearTimeout(timer);
                off();
                resolve();
              }
            },
            (reason) => reject(new Error(reason)),
          );
          line.write(Buffer.from(`${typed}\r`));
        });
        raw.push(performance.now() - t);
      }
      driver.logout();
      await line.drain();
    } finally {
      driver.dispose();
      await line.close();
    }
    return [
      {
        metric: `serial console: open → identified (median of ${ROUNDS})`,
        ours: Math.round(median(ours)),
        anchor: Math.round(median(anchor)),
        unit: 'ms',
        anchorName: 'expect(1) script',
        note: `ours auto-bauds (finds 115200 on its first rate), logs in and identifies; expect is told the rate. Both read hostname ${hostname} / ${anchorHostname}`,
      },
      {
        metric: `serial console: command round trip (median of ${TRIPS})`,
        ours: Math.round(median(trips) * 100) / 100,
        anchor: Math.round(median(raw) * 100) / 100,
        unit: 'ms',
        anchorName: 'raw write + read to marker',
        note: 'same bytes typed; ours also matches the begin marker and parses the exit status',
      },
    ];
  } finally {
    await ctx.lab.removeDevice('bench-serial');
  }
}
