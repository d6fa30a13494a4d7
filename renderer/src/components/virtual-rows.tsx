import { useVirtualizer, type VirtualItem } from '@tanstack/react-virtual';
import { useRef, type ReactNode } from 'react';

/**
 * Virtualised table rows: only the rows in view (plus `overscan`) are rendered, with spacer rows above and below
 * keeping the scrollbar honest. Put `scrollRef` on the scrolling box, render `padTop`/`padBottom` spacers around
 * `items`, and pass `measureElement` to rows whose height varies.
 */
export function useVirtualRows(opts: { count: number; estimatePx: number; overscan?: number; keyOf?: (index: number) => string | number }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: opts.count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => opts.estimatePx,
    overscan: opts.overscan ?? 12,
    getItemKey: opts.keyOf,
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0) : 0;
  return { scrollRef, items, padTop, padBottom, measureElement: virtualizer.measureElement };
}

/** The spacer row standing in for the rows scrolled out of view. */
function SpacerRow({ height }: { height: number }) {
  return height > 0 ? <tr style={{ height }} aria-hidden /> : null;
}

/**
 * The body rows of a virtualised table: the rows in view, rendered by `children` (with the row's index in `rows`),
 * between the spacers standing in for the rest. `view` is what useVirtualRows returned.
 */
export function VirtualRows<T>({ rows, view, children }: { rows: readonly T[]; view: { items: VirtualItem[]; padTop: number; padBottom: number }; children: (row: T, index: number) => ReactNode }) {
  return (
    <>
      <SpacerRow height={view.padTop} />
      {view.items.map((item) => {
        const row = rows[item.index];
        return row === undefined ? null : children(row, item.index);
      })}
      <SpacerRow height={view.padBottom} />
    </>
  );
}
