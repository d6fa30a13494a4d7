import { STATE_PATTERNS } from './console-patterns';
import { POKE } from './console-driver';
import { Expecter } from './expecter';
import { COMMON_BAUD_RATES, pickBaud, scoreBaud, type BaudChoice, type BaudTrial } from './baud';
import type { SerialLine } from './serial-line';

export interface AutoBaudOptions {
  rates?: readonly number[];
  /** How long to listen at one rate when nothing comes back. */
  listenMs?: number;
  /** Once bytes come, how long a silence ends the answer. */
  quietMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Tries each rate: set it, drop what was in flight, poke, listen, score. Stops early only on an unmistakable answer
 * (all text and a prompt in it); otherwise every rate is tried and the most plausible wins. Leaves the line at the
 * chosen rate (or where it was when none is plausible).
 */
export async function autoBaud(line: SerialLine, opts: AutoBaudOptions = {}): Promise<BaudChoice> {
  const first = await onePass(line, opts);
  // A device still booting (or a getty that flushed our poke as it started) answers late, at the next rate: when no
  // rate read as text and some said nothing at all, one more pass asks again.
  if (first.baud !== null || !first.tried.some((t) => t.bytes === 0) || !line.isOpen) return first;
  const second = await onePass(line, opts);
  return { ...second, tried: [...first.tried, ...second.tried] };
}

async function onePass(line: SerialLine, opts: AutoBaudOptions): Promise<BaudChoice> {
  const rates = opts.rates ?? COMMON_BAUD_RATES;
  const listenMs = opts.listenMs ?? 700;
  const quietMs = opts.quietMs ?? 200;
  const original = line.settings.baudRate;
  const tried: BaudTrial[] = [];
  let chunks: Buffer[] = [];
  let lastAt = 0;
  const off = line.subscribe(
    (b) => {
      chunks.push(b);
      lastAt = Date.now();
    },
    () => undefined,
  );
  try {
    for (const baud of rates) {
      await line.setBaud(baud);
      // Let bytes sent at the previous rate drain out before listening at this one.
      await sleep(30);
      chunks = [];
      lastAt = 0;
      const started = Date.now();
      line.write(POKE);
      while (Date.now() - started < listenMs) {
        await sleep(20);
        if (lastAt && Date.now() - lastAt >= quietMs) break;
        if (!line.isOpen) break;
      }
      const bytes = Buffer.concat(chunks);
      const trial = { baud, ...scoreBaud(bytes) };
      tried.push(trial);
      if (!line.isOpen) break;
      if (trial.score === 1 && trial.bytes >= 8) {
        const e = new Expecter();
        if (e.feed(bytes, 0) === null && e.expect(STATE_PATTERNS, {}, 0)?.kind === 'match') break;
      }
    }
  } finally {
    off();
  }
  const choice = pickBaud(tried);
  await line.setBaud(choice.baud ?? original).catch(() => undefined);
  return choice;
}
