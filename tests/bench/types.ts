import type { Core } from '../../electron/core/app';
import type { Lab } from '../lab/lab';

/** One line of the benchmark table: our figure, the anchor measured in the same run, and their ratio. */
export interface BenchRow {
  metric: string;
  ours: number;
  anchor: number;
  unit: string;
  anchorName: string;
  note?: string;
}

export interface BenchContext {
  lab: Lab;
  core: Core;
  dataDir: string;
  log(message: string): void;
}

export type RowsModule = { rows(ctx: BenchContext): Promise<BenchRow[]> };
