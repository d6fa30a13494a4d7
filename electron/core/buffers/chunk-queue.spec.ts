import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ChunkQueue } from './flush-session';

describe('ChunkQueue (the flush session reading its channel)', () => {
  it('hands chunks out as they arrived, never concatenated, and pauses the stream above its mark until read down', async () => {
    const stream = new PassThrough();
    const q = new ChunkQueue(stream, 10);
    const chunks = [Buffer.from('abcd'), Buffer.from('efgh'), Buffer.from('ijkl')];
    for (const c of chunks) stream.write(c);
    await new Promise((r) => setImmediate(r));
    expect(stream.isPaused()).toBe(true);
    const first = await q.next();
    expect(first.value).toBe(chunks[0]);
    expect(stream.isPaused()).toBe(true);
    expect((await q.next()).value).toBe(chunks[1]);
    expect(stream.isPaused()).toBe(false);
    expect((await q.next()).value).toBe(chunks[2]);
    const later = q.next();
    stream.end(Buffer.from('z'));
    expect((await later).value?.toString()).toBe('z');
    expect(await q.next()).toEqual({ done: true, value: undefined });
  });

  it('ends when the stream closes without an end (a cut channel), and reports an error', async () => {
    const cut = new PassThrough();
    const q = new ChunkQueue(cut);
    cut.write('x');
    cut.destroy();
    expect((await q.next()).value?.toString()).toBe('x');
    expect((await q.next()).done).toBe(true);
    const broken = new PassThrough();
    const b = new ChunkQueue(broken);
    broken.destroy(new Error('channel failed'));
    await expect(b.next()).rejects.toThrow('channel failed');
  });

  it('drops everything once told to, so the stream never waits for a reader', async () => {
    const stream = new PassThrough();
    const q = new ChunkQueue(stream, 4);
    stream.write('abcdefgh');
    await new Promise((r) => setImmediate(r));
    expect(stream.isPaused()).toBe(true);
    q.drop();
    expect(stream.isPaused()).toBe(false);
    stream.end('more');
    expect((await q.next()).done).toBe(true);
  });
});
