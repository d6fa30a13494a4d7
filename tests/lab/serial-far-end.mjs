// The lab's serial far end: sits between the laptop's pty and the device's console and behaves like a UART at one
// fixed speed. A pty carries bytes at any setting, so this reads the speed the laptop configured on its side
// (`stty -F <slave> speed`: both ends of a pty pair share one termios) for every chunk, and scrambles both
// directions unless it equals the device's own rate — as framing errors do on a real wire.
// Usage: node serial-far-end.mjs <slave-path> <baud> <mode> <console-script>
//   mode getty|shell: relays to <console-script> on a pty of its own (agetty+login, or a plain /bin/sh)
//   mode noise:       ignores input and emits random bytes, like a floating RX line or a wrong-voltage adapter
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const [slave, baudText, mode, script] = process.argv.slice(2);
const baud = Number(baudText);
let k = 0;

function laptopSpeed() {
  try {
    return Number(execFileSync('stty', ['-F', slave, 'speed'], { timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
  } catch {
    return NaN;
  }
}

// What a receiver at the wrong rate makes of a byte: mostly high-bit bytes and framing garbage.
const scrambleOut = (b) => Buffer.from([...b].map((x) => ((x * 167 + 89 + k++) & 0xff) | 0x80));
// What the device makes of our bytes at the wrong rate: letters that never form CR, LF or a control key.
const scrambleIn = (b) => Buffer.from([...b].map((x) => 0x61 + ((x * 7 + k++) % 26)));

if (mode === 'noise') {
  const timer = setInterval(() => process.stdout.write(randomBytes(48)), 100);
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', () => {
    clearInterval(timer);
    process.exit(0);
  });
} else {
  const child = spawn('socat', ['STDIO', `EXEC:${script},pty,setsid,ctty,stderr`], { stdio: ['pipe', 'pipe', 'inherit'] });
  process.stdin.on('data', (b) => child.stdin.write(laptopSpeed() === baud ? b : scrambleIn(b)));
  child.stdout.on('data', (b) => process.stdout.write(laptopSpeed() === baud ? b : scrambleOut(b)));
  child.stdin.on('error', () => undefined);
  process.stdin.on('end', () => child.kill('SIGTERM'));
  child.on('exit', () => process.exit(0));
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => {
    child.kill('SIGTERM');
    process.exit(0);
  });
}
