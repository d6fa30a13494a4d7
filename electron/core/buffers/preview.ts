import type { SegmentPreview } from '../../../shared/contract/buffers';

/** A first look at a stored segment: NDJSON and CSV line by line, other text as is, binary as a hex dump. */
export function previewOf(name: string, head: Buffer, totalBytes: number, maxLines: number): SegmentPreview {
  const truncatedBytes = head.length < totalBytes;
  const text = head.toString('utf8');
  const isText = !head.includes(0) && Buffer.from(text, 'utf8').equals(head.subarray(0, Buffer.byteLength(text, 'utf8'))) && !text.includes('\uFFFD');
  if (!isText) {
    const lines: string[] = [];
    for (let off = 0; off < head.length && lines.length < maxLines; off += 16) {
      const row = head.subarray(off, off + 16);
      const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
    }
    return { format: 'binary', lines, truncated: truncatedBytes || head.length > maxLines * 16 };
  }
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  const lines = all.slice(0, maxLines);
  const first = lines[0]?.trim() ?? '';
  let format: SegmentPreview['format'] = 'text';
  if (/\.(ndjson|jsonl)$/i.test(name) || first.startsWith('{')) format = 'ndjson';
  else if (/\.csv$/i.test(name) || (first.includes(',') && lines.slice(1, 5).every((l) => l.split(',').length === first.split(',').length))) format = 'csv';
  return { format, lines, truncated: truncatedBytes || all.length > maxLines };
}
