import type { BenchRow } from './types';

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** ours/anchor; below 0.1 it also says the inverse ("0.0047x = 1/215"), which two decimals would round to 0.00x. */
function ratio(ours: number, anchor: number): string {
  if (anchor === 0) return 'n/a';
  const r = ours / anchor;
  if (r > 0 && r < 0.1) return `${r.toPrecision(2)}x = 1/${fmt(1 / r)}`;
  return `${fmt(r)}x`;
}

/** `metric | ours | anchor | ratio` — ratio is ours/anchor, so for times lower is better, for rates higher. */
export function formatTable(rows: BenchRow[]): string {
  const lines = rows.map((r) => [r.metric, `${fmt(r.ours)} ${r.unit}`, `${fmt(r.anchor)} ${r.unit} (${r.anchorName})`, ratio(r.ours, r.anchor), r.note ?? '']);
  const head = ['metric', 'ours', 'anchor', 'ratio', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [row(head), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}
