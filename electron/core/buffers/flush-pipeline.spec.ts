import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database';
import { migrations } from '../store/migrations';
import { OffThreadWriter } from './off-thread-writer';
import { nameLines } from './flush-session';
import { FLUSH_SESSION } from './remote-scripts';
import { SegmentStore } from './segment-store';
import { listingEnd, parseScan, sidecarChecksum } from './spool-scan';

const dirs: string[] = [];
const tempDir = (tag: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `outpost-${tag}-`));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('listing parser', () => {
  const out = Buffer.concat([
    Buffer.from('/sp/t/ready/b\0/sp/t/ready/a\0/sp/t/ready/a.sha256\0/sp/t/ready/x y\0\0/sp/t/ready/link\0\0'),
    Buffer.from('7 1700000000 ./t/ready/b\n5 1700000001 ./t/ready/a\n70 1700000001 ./t/ready/a.sha256\n\0'),
  ]);

  it('finds the end of the listing only once its stat section is closed, whatever follows', () => {
    for (let cut = 0; cut < out.length; cut++) expect(listingEnd(out.subarray(0, cut))).toBe(-1);
    expect(listingEnd(out)).toBe(out.length);
    expect(listingEnd(Buffer.concat([out, Buffer.from('stream\0bytes')]))).toBe(out.length);
    expect(listingEnd(Buffer.from('\0\0\0'))).toBe(3);
  });

  it('pairs sizes, mtimes and sidecar sizes with validated names and refuses the rest', () => {
    const scan = parseScan('/sp', out);
    expect(scan.entries.map((e) => [e.rel, e.size, e.sidecarBytes])).toEqual([
      ['t/ready/a', 5, 70],
      ['t/ready/b', 7, null],
    ]);
    expect(scan.entries[0]?.mtime).toBe('2023-11-14T22:13:21.000Z');
    expect(scan.listing.refused.map((r) => r.path).sort()).toEqual(['"/sp/t/ready/link"', '"/sp/t/ready/x y"']);
  });

  it('reads a sidecar checksum or calls it malformed', () => {
    expect(sidecarChecksum(`${'A'.repeat(64)}  seg\n`)).toBe('a'.repeat(64));
    expect(sidecarChecksum('not-a-checksum  seg\n')).toBe('malformed');
    expect(sidecarChecksum('')).toBe('malformed');
  });
});

describe('OffThreadWriter', () => {
  it('writes, hashes and fsyncs many files from chunks that straddle its staging buffers', async () => {
    const dir = tempDir('otw');
    const writer = new OffThreadWriter();
    const bodies = [randomBytes(3 * 1024 * 1024 + 17), Buffer.alloc(0), randomBytes(70_000), randomBytes(1)];
    const ends = bodies.map((body, i) => {
      const id = writer.open(join(dir, String(i)));
      for (let o = 0; o < body.length; o += 32_768) writer.write(id, body.subarray(o, o + 32_768));
      return writer.end(id);
    });
    const done = await Promise.all(ends);
    expect(done).toEqual(bodies.map((b) => ({ sha256: sha(b), bytes: b.length })));
    bodies.forEach((b, i) => expect(readFileSync(join(dir, String(i))).equals(b)).toBe(true));
    await writer.close();
  });

  it('keeps every byte across many wraps of its ring, with back-pressure, files of any length and chunking', async () => {
    const dir = tempDir('otw-ring');
    const writer = new OffThreadWriter();
    const base = randomBytes(1024 * 1024 + 4099);
    // 180 MiB in files of odd lengths (one ends exactly on a block), so file starts and the ring's end fall anywhere.
    const lengths = [4096, 1, 4097, 0, 3 * 1024 * 1024 + 5, ...Array.from({ length: 200 }, (_, i) => 917_503 + i * 7919)];
    const expected: Array<{ sha256: string; bytes: number }> = [];
    const ends: Array<Promise<{ sha256: string; bytes: number }>> = [];
    for (const [i, length] of lengths.entries()) {
      const hash = createHash('sha256');
      const id = writer.open(join(dir, String(i)));
      for (let done = 0; done < length; ) {
        const n = Math.min(length - done, 65_536 + (i % 5) * 4099);
        const from = (i * 7 + done) % (base.length - n);
        const chunk = base.subarray(from, from + n);
        hash.update(chunk);
        writer.write(id, chunk);
        done += n;
        if (writer.pendingBytes > 16 * 1024 * 1024) await writer.drained(4 * 1024 * 1024);
      }
      expected.push({ sha256: hash.digest('hex'), bytes: length });
      ends.push(writer.end(id));
    }
    expect(await Promise.all(ends)).toEqual(expected);
    for (const [i, e] of expected.entries()) {
      const body = readFileSync(join(dir, String(i)));
      expect({ sha256: sha(body), bytes: body.length }).toEqual(e);
    }
    await writer.close();
  });

  it('unlinks aborted and unfinished files and reports a failed open as a write error', async () => {
    const dir = tempDir('otw-abort');
    const writer = new OffThreadWriter();
    const aborted = writer.open(join(dir, 'aborted'));
    writer.write(aborted, Buffer.from('partial'));
    writer.abort(aborted);
    const unfinished = writer.open(join(dir, 'unfinished'));
    writer.write(unfinished, Buffer.from('partial'));
    const failed = writer.end(writer.open(join(dir, 'no-such-dir', 'x')));
    await expect(failed).rejects.toMatchObject({ kind: 'internal' });
    await writer.close();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('SegmentStore group commit', () => {
  function storeIn(dir: string): SegmentStore {
    openDatabase(join(dir, 'outpost.db')).close();
    return new SegmentStore(dir, join(dir, 'outpost.db'));
  }
  const segment = (name: string, body: Buffer) => ({ deviceId: 'd1', stream: 's', segment: name, sha256: sha(body), bytes: body.length, kind: 'spool' as const, records: null, sourceTime: null });

  it('renames, indexes and keeps one blob per content; a replay changes nothing', () => {
    const store = storeIn(tempDir('store'));
    const body = randomBytes(100);
    const files = ['a', 'b'].map((name) => {
      const tmpPath = store.tmpPath();
      writeFileSync(tmpPath, body);
      return { tmpPath, segment: segment(name, body) };
    });
    store.commit(files);
    expect(readdirSync(store.segmentsDir)).toEqual([sha(body)]);
    expect(readdirSync(store.tmpDir)).toEqual([]);
    expect(store.holds({ deviceId: 'd1', stream: 's', segment: 'a' }, sha(body))).toBe(true);
    const again = store.tmpPath();
    writeFileSync(again, body);
    store.commit([{ tmpPath: again, segment: segment('a', body) }]);
    expect(store.list({ limit: 10 })).toHaveLength(2);
    store.close();
  });

  it('counts each stored content once in usedBytes, kept by the index itself, also for a store made before the total', () => {
    const dir = tempDir('usage');
    const dbFile = join(dir, 'outpost.db');
    // A store from before migration 31: two names for one content, and one other content.
    const before = openDatabase(dbFile, migrations.filter((m) => m.version !== 31));
    const insert = before.prepare(`INSERT INTO buffer_segments (device_id, stream, segment, sha256, bytes, kind, stored_at) VALUES ('d1', 's', ?, ?, ?, 'spool', 'now')`);
    insert.run('a', 'x'.repeat(64), 100);
    insert.run('b', 'x'.repeat(64), 100);
    insert.run('c', 'y'.repeat(64), 7);
    before.close();
    openDatabase(dbFile).close();
    const store = new SegmentStore(dir, dbFile);
    expect(store.usedBytes()).toBe(107);
    const body = randomBytes(50);
    for (const name of ['d', 'e', 'd']) {
      const tmpPath = store.tmpPath();
      writeFileSync(tmpPath, body);
      store.commit([{ tmpPath, segment: segment(name, body) }]);
    }
    expect(store.usedBytes()).toBe(157);
    store.close();
  });

  it('sweeps blobs the index does not know (a crash between rename and commit) and keeps indexed ones', () => {
    const store = storeIn(tempDir('sweep'));
    const kept = randomBytes(10);
    const tmpPath = store.tmpPath();
    writeFileSync(tmpPath, kept);
    store.commit([{ tmpPath, segment: segment('kept', kept) }]);
    writeFileSync(join(store.segmentsDir, sha('orphan')), 'orphan');
    expect(store.sweepOrphans()).toBe(1);
    expect(readdirSync(store.segmentsDir)).toEqual([sha(kept)]);
    store.close();
  });
});

describe('group commit on the writer thread', () => {
  function storeIn(dir: string): SegmentStore {
    openDatabase(join(dir, 'outpost.db')).close();
    return new SegmentStore(dir, join(dir, 'outpost.db'));
  }
  const segment = (name: string, body: Buffer) => ({ deviceId: 'd1', stream: 's', segment: name, sha256: sha(body), bytes: body.length, kind: 'spool' as const, records: null, sourceTime: null });
  async function received(store: SegmentStore, writer: OffThreadWriter, bodies: Array<[string, Buffer]>) {
    return Promise.all(
      bodies.map(async ([name, body]) => {
        const tmpPath = store.tmpPath();
        const id = writer.open(tmpPath);
        writer.write(id, body);
        const done = await writer.end(id);
        expect(done.sha256).toBe(sha(body));
        return { tmpPath, segment: segment(name, body) };
      }),
    );
  }

  it('renames, fsyncs and indexes on its own connection; the main connection sees the commit at once', async () => {
    const store = storeIn(tempDir('otw-commit'));
    const writer = new OffThreadWriter();
    const a = randomBytes(5000);
    const files = await received(store, writer, [['a', a], ['b', randomBytes(70_000)], ['a-again', a]]);
    await store.commitOffThread(writer, files);
    expect(readdirSync(store.segmentsDir).sort()).toEqual([sha(a), files[1]!.segment.sha256].sort());
    expect(readdirSync(store.tmpDir)).toEqual([]);
    expect(store.list({ limit: 10 }).map((s) => s.segment).sort()).toEqual(['a', 'a-again', 'b']);
    expect(readFileSync(store.blobPath(sha(a))).equals(a)).toBe(true);
    await writer.close();
    store.close();
  });

  it('renames only under the write lock: while another connection holds it, nothing is placed; once released, all is', async () => {
    const dir = tempDir('otw-lock');
    const store = storeIn(dir);
    const writer = new OffThreadWriter();
    const files = await received(store, writer, [['x', randomBytes(1000)]]);
    // Another process mid-commit (or mid-sweep): it holds the index's write lock.
    const other = openDatabase(join(dir, 'outpost.db'));
    other.exec('BEGIN IMMEDIATE');
    const committing = store.commitOffThread(writer, files);
    await new Promise((r) => setTimeout(r, 300));
    expect(readdirSync(store.segmentsDir)).toEqual([]);
    expect(readdirSync(store.tmpDir)).toHaveLength(1);
    other.exec('COMMIT');
    other.close();
    await committing;
    expect(readdirSync(store.segmentsDir)).toEqual([files[0]!.segment.sha256]);
    await writer.close();
    store.close();
  });

  it('a commit that fails after some renames indexes nothing; the sweep then removes the placed blobs, like after a crash', async () => {
    const store = storeIn(tempDir('otw-fail'));
    const writer = new OffThreadWriter();
    const files = await received(store, writer, [['ok', randomBytes(300)], ['gone', randomBytes(400)]]);
    // The second temp file vanished: its rename fails inside the transaction, after the first one was placed.
    rmSync(files[1]!.tmpPath);
    await expect(store.commitOffThread(writer, files)).rejects.toMatchObject({ kind: 'internal', message: expect.stringMatching(/storing flushed segments/) });
    expect(store.list({ limit: 10 })).toEqual([]);
    expect(readdirSync(store.segmentsDir)).toEqual([files[0]!.segment.sha256]);
    expect(store.sweepOrphans()).toBe(1);
    expect(readdirSync(store.segmentsDir)).toEqual([]);
    await writer.close();
    store.close();
  });
});

/** Runs FLUSH_SESSION with a real local shell against a spool in a temp dir (the lab runs it over SSH). */
function session(shell: string[], root: string, mode: 'delete' | 'move', outboxes: string[] = []) {
  const child = spawn(shell[0] ?? 'sh', [...shell.slice(1), '-c', FLUSH_SESSION, 'outpost-flush', root, mode, ...outboxes]);
  let out = Buffer.alloc(0);
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out = Buffer.concat([out, c])));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const until = async (what: string, ok: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`the session never printed ${what}; stderr: ${err}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, out: () => out, err: () => err, until, exited };
}

const shells: string[][] = [['sh'], ...(existsSync('/usr/bin/busybox') || existsSync('/bin/busybox') ? [['busybox', 'sh']] : [])];
describe.each(shells)('FLUSH_SESSION under %s', (...shell) => {
  it('lists, streams, hashes and applies only complete acknowledgement batches', async () => {
    const root = tempDir('spool');
    mkdirSync(join(root, 't', 'ready'), { recursive: true });
    writeFileSync(join(root, 't', 'ready', 'a'), 'hello');
    writeFileSync(join(root, 't', 'ready', 'a.sha256'), `${sha('hello')}  a\n`);
    writeFileSync(join(root, 't', 'ready', 'b'), 'world!');
    writeFileSync(join(root, 't', 'ready', 'c'), 'zz');
    const s = session(shell, root, 'delete');
    await s.until('the listing', () => listingEnd(s.out()) >= 0);
    const scan = parseScan(root, s.out().subarray(0, listingEnd(s.out())));
    expect(scan.entries.map((e) => e.rel)).toEqual(['t/ready/a', 't/ready/b', 't/ready/c']);
    s.child.stdin.write(`plain 1\n${nameLines([{ stream: 't', segment: 'a', sidecar: true }, { stream: 't', segment: 'b' }])}.\n${nameLines([{ stream: 't', segment: 'b' }])}.\n`);
    await s.until('the trailer', () => s.out().toString().endsWith('\nOUTPOST-END 0\n'));
    await s.until('the device checksums', () => s.err().includes('OUTPOST-HASHED'));
    expect(s.out().subarray(listingEnd(s.out())).toString()).toBe(`${sha('hello')}  a\nhelloworld!\nOUTPOST-END 0\n`);
    expect(s.err()).toContain(`${sha('world!')}  t/ready/b`);
    // A name before any stream line is ignored (it would otherwise be a path outside every stream).
    s.child.stdin.write('c\n@t\na\n.\n');
    await s.until('the acknowledgement', () => s.err().includes('OUTPOST-ACK ok'));
    expect(readdirSync(join(root, 't', 'ready')).sort()).toEqual(['b', 'c']);
    // A batch cut short by a dying laptop (no closing `.`, last name even partial) is never applied.
    s.child.stdin.end('@t\nb\nc');
    expect(await s.exited).toBe(0);
    expect(readdirSync(join(root, 't', 'ready')).sort()).toEqual(['b', 'c']);
  });

  it('reads the compact name lists across streams; a delete takes a sidecar along even when it was not sent', async () => {
    const root = tempDir('spool-streams');
    for (const t of ['s1', 's2']) mkdirSync(join(root, t, 'ready'), { recursive: true });
    writeFileSync(join(root, 's1', 'ready', 'x'), 'one');
    writeFileSync(join(root, 's1', 'ready', 'x.sha256'), `${sha('one')}  x\n`);
    writeFileSync(join(root, 's2', 'ready', 'y'), 'two');
    writeFileSync(join(root, 's2', 'ready', 'z'), 'three');
    // z's sidecar appeared after the listing (a producer that wrote it late): it goes with its segment.
    writeFileSync(join(root, 's2', 'ready', 'z.sha256'), `${sha('three')}  z\n`);
    const s = session(shell, root, 'delete');
    await s.until('the listing', () => listingEnd(s.out()) >= 0);
    const start = listingEnd(s.out());
    const send = [{ stream: 's1', segment: 'x', sidecar: true }, { stream: 's2', segment: 'y' }, { stream: 's2', segment: 'z' }];
    expect(nameLines(send)).toBe('@s1\n+x\n@s2\ny\nz\n');
    s.child.stdin.write(`plain 2\n${nameLines(send)}.\n${nameLines(send.slice(1))}.\n`);
    await s.until('the trailer', () => s.out().toString().endsWith('\nOUTPOST-END 0\n'));
    await s.until('the device checksums', () => s.err().includes('OUTPOST-HASHED'));
    expect(s.out().subarray(start).toString()).toBe(`${sha('one')}  x\nonetwothree\nOUTPOST-END 0\n`);
    expect(s.err()).toContain(`${sha('two')}  s2/ready/y`);
    expect(s.err()).toContain(`${sha('three')}  s2/ready/z`);
    s.child.stdin.write(`${nameLines(send.map(({ stream, segment }) => ({ stream, segment })))}.\n`);
    await s.until('the acknowledgement', () => s.err().includes('OUTPOST-ACK ok'));
    s.child.stdin.end();
    expect(await s.exited).toBe(0);
    expect([...readdirSync(join(root, 's1', 'ready')), ...readdirSync(join(root, 's2', 'ready'))]).toEqual([]);
  });

  it('gzips the transfer (only the transfer) when the request asks for it; acknowledgements work the same', async () => {
    const root = tempDir('spool-gzip');
    mkdirSync(join(root, 't', 'ready'), { recursive: true });
    const ndjson = Array.from({ length: 2000 }, (_, i) => `{"t":${i},"temp":21.5,"site":"north"}\n`).join('');
    writeFileSync(join(root, 't', 'ready', 'a'), ndjson);
    writeFileSync(join(root, 't', 'ready', 'b'), 'world!');
    const s = session(shell, root, 'delete');
    await s.until('the listing', () => listingEnd(s.out()) >= 0);
    const start = listingEnd(s.out());
    s.child.stdin.write('gzip 0\n@t\na\nb\n.\n.\n');
    await s.until('the device checksums', () => s.err().includes('OUTPOST-HASHED'));
    // gzip writes its end (and so the trailer) once the transfer's input ends.
    await s.until('the whole gzip stream', () => {
      try {
        return gunzipSync(s.out().subarray(start)).toString().endsWith('\nOUTPOST-END 0\n');
      } catch {
        return false;
      }
    });
    const wire = s.out().length - start;
    expect(gunzipSync(s.out().subarray(start)).toString()).toBe(`${ndjson}world!\nOUTPOST-END 0\n`);
    expect(wire).toBeLessThan(ndjson.length / 5);
    s.child.stdin.write('@t\na\nb\n.\n');
    await s.until('the acknowledgement', () => s.err().includes('OUTPOST-ACK ok'));
    s.child.stdin.end();
    expect(await s.exited).toBe(0);
    expect(readdirSync(join(root, 't', 'ready'))).toEqual([]);
  });

  it('moves acknowledged segments with their sidecars to acked/ in move mode; probes outboxes; reports an absent root', async () => {
    const root = tempDir('spool-move');
    mkdirSync(join(root, 't', 'ready'), { recursive: true });
    writeFileSync(join(root, 't', 'ready', 'a'), 'hello');
    writeFileSync(join(root, 't', 'ready', 'a.sha256'), `${sha('hello')}  a\n`);
    const s = session(shell, root, 'move');
    await s.until('the listing', () => listingEnd(s.out()) >= 0);
    s.child.stdin.write('plain 0\n.\n.\n@t\na\n.\n');
    await s.until('the acknowledgement', () => s.err().includes('OUTPOST-ACK ok'));
    s.child.stdin.end();
    expect(await s.exited).toBe(0);
    expect(readdirSync(join(root, 't', 'acked')).sort()).toEqual(['a', 'a.sha256']);
    expect(readdirSync(join(root, 't', 'ready'))).toEqual([]);
    // The outbox probe answers first, even when the spool root is absent.
    const outbox = join(root, 'outbox.db');
    writeFileSync(outbox, '');
    const absent = session(shell, join(root, 'nope'), 'delete', [outbox, join(root, 'missing.db')]);
    expect(await absent.exited).toBe(3);
    expect(absent.err().split('\n').filter((l) => l.startsWith('OUTPOST-PROBE ')).filter((l) => !l.endsWith('sqlite3'))).toEqual([`OUTPOST-PROBE outbox ${outbox}`, 'OUTPOST-PROBE end']);
  });
});
