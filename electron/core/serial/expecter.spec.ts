import { describe, expect, it } from 'vitest';
import { STATE_PATTERNS, cleanOutput, wrapCommand } from './console-patterns';
import { Expecter, TextCleaner, type ExpectEvent } from './expecter';
import { TRANSCRIPTS } from './transcripts';

/** A seeded split of a string into chunks of 1..max bytes, so failures replay. */
function randomSplits(bytes: Buffer, seed: number, max = 9): Buffer[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(rnd() * max);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Feeds each step's output in the given split and returns the event ids the matcher reported. */
function replay(steps: { output: string }[], split: (b: Buffer) => Buffer[]): string[] {
  const e = new Expecter();
  const events: string[] = [];
  for (const step of steps) {
    let ev: ExpectEvent | null = e.expect(STATE_PATTERNS, {}, 0);
    for (const chunk of split(Buffer.from(step.output, 'utf8'))) {
      if (ev) break;
      ev = e.feed(chunk, 1);
    }
    events.push(ev?.kind === 'match' ? ev.id : 'none');
  }
  return events;
}

describe('Expecter on recorded console transcripts', () => {
  for (const [name, steps] of Object.entries(TRANSCRIPTS)) {
    it(`${name}: the same events whole, byte by byte and in random splits`, () => {
      const expected = steps.map((s) => s.expect);
      expect(replay(steps, (b) => [b])).toEqual(expected);
      expect(replay(steps, (b) => [...b].map((x) => Buffer.from([x])))).toEqual(expected);
      for (let seed = 1; seed <= 25; seed++) expect(replay(steps, (b) => randomSplits(b, seed))).toEqual(expected);
    });
  }

  it('does not take "Last login: " for a login prompt, even cut right after it', () => {
    const e = new Expecter();
    e.expect(STATE_PATTERNS, {}, 0);
    expect(e.feed('Last login: ', 1)).toBeNull();
    expect(e.feed('Mon Nov 30 on ttyS0\r\n# ', 2)).toMatchObject({ kind: 'match', id: 'shell' });
  });

  it('earliest match wins whatever the order of patterns, ties to the first listed', () => {
    const e = new Expecter();
    e.expect([{ id: 'late', kind: 'exact', text: 'bar' }, { id: 'early', kind: 'exact', text: 'foo' }], {}, 0);
    expect(e.feed('xx foo bar', 1)).toMatchObject({ id: 'early', before: 'xx ' });
    const f = new Expecter();
    f.expect([{ id: 'long', kind: 'exact', text: 'foobar' }, { id: 'short', kind: 'exact', text: 'foo' }], {}, 0);
    expect(f.feed('foobar', 1)).toMatchObject({ id: 'long' });
  });

  it('keeps only a bounded window of text', () => {
    const e = new Expecter(64);
    e.expect([{ id: 'x', kind: 'exact', text: 'never' }], {}, 0);
    for (let i = 0; i < 100; i++) e.feed('0123456789', i);
    expect(e.pending.length).toBe(64);
  });

  it('reports each deadline by name and never before it passes', () => {
    const e = new Expecter();
    e.expect([{ id: 'p', kind: 'exact', text: '$ ' }], { firstByteMs: 100, idleMs: 50, overallMs: 1000 }, 0);
    expect(e.tick(99)).toBeNull();
    expect(e.tick(100)).toMatchObject({ kind: 'timeout', deadline: 'first-byte' });
    e.expect([{ id: 'p', kind: 'exact', text: '$ ' }], { firstByteMs: 100, idleMs: 50, overallMs: 1000 }, 0);
    e.feed('booting', 10);
    expect(e.tick(59)).toBeNull();
    expect(e.tick(60)).toMatchObject({ kind: 'timeout', deadline: 'idle', before: 'booting' });
    e.expect([{ id: 'p', kind: 'exact', text: '$ ' }], { overallMs: 200 }, 0);
    // A chatty boot still times out: the overall deadline does not restart with each byte (tio's script.c does).
    for (let t = 0; t < 200; t += 10) e.feed('x', t);
    expect(e.tick(200)).toMatchObject({ kind: 'timeout', deadline: 'overall' });
    expect(e.nextDeadlineIn(150)).toBe(50);
  });
});

describe('TextCleaner', () => {
  it('strips CSI, OSC and charset escapes and CR, across chunk boundaries', () => {
    const c = new TextCleaner();
    const text = '\x1b]0;title\x07\x1b[01;32mroot@gw\x1b[00m:~# \x1b(Bok\r\n';
    const whole = new TextCleaner().push(Buffer.from(text));
    const bytes = [...Buffer.from(text)].map((b) => c.push(Buffer.from([b]))).join('');
    expect(whole).toBe('root@gw:~# ok\n');
    expect(bytes).toBe(whole);
  });

  it('decodes UTF-8 split between reads', () => {
    const c = new TextCleaner();
    const b = Buffer.from('µs→ok');
    expect([...b].map((x) => c.push(Buffer.from([x]))).join('')).toBe('µs→ok');
  });
});

describe('command markers', () => {
  it('the typed line never matches its own markers (echo-proof)', () => {
    const { line, begin, end } = wrapCommand('uname -m', 'abc123');
    const e = new Expecter();
    e.expect([begin, end], {}, 0);
    expect(e.feed(`${line}\r\n`, 1)).toBeNull();
    expect(e.feed('OP_BEGIN_abc123\r\naarch64\r\nOP_END_abc123:0\r\n# ', 2)).toMatchObject({ id: 'begin' });
  });

  it('refuses a multi-line command and an unsafe nonce', () => {
    expect(() => wrapCommand('a\nb', 'abc')).toThrow();
    expect(() => wrapCommand('a', 'a"b')).toThrow();
  });

  it('drops kernel messages that interleave with the output', () => {
    expect(cleanOutput('line 1\n[   12.345678] usb 1-1: USB disconnect, device number 2\nline 2\n')).toBe('line 1\nline 2');
  });
});
