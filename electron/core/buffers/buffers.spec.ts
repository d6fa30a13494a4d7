import { describe, expect, it } from 'vitest';
import { SizedSplitter, type SplitEvent } from './sized-splitter';
import { parseListing } from './spool-names';
import { recordsOf } from './upstream/records';
import { backoffDelay } from './upstream/backoff';

const SIZES = [5, 0, 3];
const STREAM = Buffer.from('helloabc\nOUTPOST-END 0\n');

function collect(chunks: Buffer[]): SplitEvent[] {
  const s = new SizedSplitter(SIZES);
  const events = chunks.flatMap((c) => s.push(c));
  expect(s.done).toBe(true);
  return events;
}

describe('SizedSplitter', () => {
  it('gives the same segments whatever the chunk boundaries', () => {
    const expected = collect([STREAM]);
    expect(expected.filter((e) => e.type !== 'data')).toEqual([
      { type: 'start', index: 0 }, { type: 'end', index: 0 }, { type: 'start', index: 1 }, { type: 'end', index: 1 },
      { type: 'start', index: 2 }, { type: 'end', index: 2 }, { type: 'trailer', exitCode: 0 },
    ]);
    for (let size = 1; size < 12; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.subarray(i, i + size));
      const events = collect(chunks);
      const per = SIZES.map((_, i) => Buffer.concat(events.flatMap((e) => (e.type === 'data' && e.index === i ? [e.chunk] : []))).toString());
      expect(per).toEqual(['hello', '', 'abc']);
      expect(events.filter((e) => e.type !== 'data')).toEqual(expected.filter((e) => e.type !== 'data'));
    }
  });

  it('reports a failed cat and refuses more bytes than were measured', () => {
    expect(new SizedSplitter([1]).push(Buffer.from('x\nOUTPOST-END 1\n')).at(-1)).toEqual({ type: 'trailer', exitCode: 1 });
    expect(() => new SizedSplitter([1]).push(Buffer.concat([Buffer.from('x'), Buffer.alloc(100, 0x41)]))).toThrow(/more bytes/);
  });
});

describe('parseListing', () => {
  it('keeps safe regular segments, pairs sidecars and refuses hostile names and special files', () => {
    const regular = ['/sp/t/ready/seg-2', '/sp/t/ready/seg-10', '/sp/t/ready/seg-2.sha256', '/sp/t/ready/..evil', '/sp/t/ready/a\nb', '/sp/x y/ready/s'];
    const special = ['/sp/t/ready/link', '/sp/t/ready/fifo'];
    const out = Buffer.concat([...regular.map((r) => Buffer.from(`${r}\0`)), Buffer.from('\0'), ...special.map((r) => Buffer.from(`${r}\0`))]);
    const listing = parseListing('/sp', out);
    expect(listing.segments.map((s) => s.segment)).toEqual(['seg-2', 'seg-10']);
    expect([...listing.sidecars]).toEqual(['t/seg-2']);
    expect(listing.refused.map((r) => r.reason).sort()).toEqual(
      ['not a regular file (symlink, FIFO, socket or directory)', 'not a regular file (symlink, FIFO, socket or directory)', 'unsafe segment name', 'unsafe segment name', 'unsafe stream name'].sort(),
    );
  });
});

describe('recordsOf', () => {
  it('splits NDJSON per line, routes outbox rows by topic column and keeps binary whole', () => {
    expect(recordsOf('spool', 'a.ndjson', Buffer.from('{"a":1}\n{"a":2}\n'), 'p/d/s').map((r) => r.payload.toString())).toEqual(['{"a":1}', '{"a":2}']);
    const rows = recordsOf('outbox', 'x', Buffer.from('{"id":1,"topic":"t/1","payload":"x"}\n{"id":2,"topic":"bad/#","payloadHex":"00ff"}\n'), 'p/d/outbox');
    expect(rows).toEqual([
      { topic: 't/1', payload: Buffer.from('x') },
      { topic: 'p/d/outbox/unroutable', payload: Buffer.from([0, 255]) },
    ]);
    expect(recordsOf('spool', 'b.bin', Buffer.from([1, 2, 0]), 'p/d/s')).toHaveLength(1);
  });

  it('backs off exponentially within the cap, with jitter', () => {
    expect(backoffDelay(0, 100, 1000, () => 0.999)).toBe(99);
    expect(backoffDelay(5, 100, 1000, () => 0.5)).toBe(500);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(0);
  });
});
