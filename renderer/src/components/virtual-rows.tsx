import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';

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
export function SpacerRow({ height }: { height: number }) {
  return height > 0 ? <tr style={{ height }} aria-hidden /> : null;
}
