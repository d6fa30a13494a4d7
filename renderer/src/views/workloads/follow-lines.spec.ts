import { describe, expect, it } from 'vitest';
import { appendLines, containerEvents } from './follow-lines';

describe('followed lines', () => {
  it('appends newline-terminated chunks and keeps only the newest lines', () => {
    let lines = appendLines([], 'a\nb\n', 3);
    lines = appendLines(lines, 'c\nd\n', 3);
    expect(lines).toEqual(['b', 'c', 'd']);
    expect(appendLines(lines, '\n', 3)).toBe(lines);
  });

  it('keeps the engine events of one container, oldest first, with the details a technician needs', () => {
    const lines = [
      JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'ticker', image: 'busybox' } }, timeNano: 2_000_000_000 }),
      JSON.stringify({ Type: 'container', Action: 'die', Actor: { ID: 'abc', Attributes: { exitCode: '137', name: 'ticker' } }, time: 3 }),
      JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'other', Attributes: {} }, time: 4 }),
      JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'abc', Attributes: {} }, time: 5 }),
      'not json',
    ];
    expect(containerEvents(lines, 'abc')).toEqual([
      { time: 2000, action: 'start', details: 'image=busybox  name=ticker' },
      { time: 3000, action: 'die', details: 'exitCode=137  name=ticker' },
    ]);
  });
});
