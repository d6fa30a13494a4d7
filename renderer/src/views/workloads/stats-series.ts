/** Rolling series for the live stats plots: columns for uPlot, network counters turned into rates. Pure. */

export interface StatsSample {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
}

export interface StatsSeries {
  /** Seconds since the epoch, uPlot's x axis. */
  time: number[];
  cpu: number[];
  memory: number[];
  rxRate: number[];
  txRate: number[];
  memoryLimitBytes: number;
  last: { at: number; rx: number; tx: number } | null;
}

export const EMPTY_SERIES: StatsSeries = { time: [], cpu: [], memory: [], rxRate: [], txRate: [], memoryLimitBytes: 0, last: null };

// Ten minutes at one sample every ~2 s: enough to see a leak or a restart loop, small enough to redraw freely.
export const MAX_POINTS = 300;

function push(list: number[], value: number, max: number): number[] {
  const next = list.length >= max ? list.slice(list.length - max + 1) : list.slice();
  next.push(value);
  return next;
}

/** Adds one sample taken at `atMs`. Counter resets (container restarted) read as zero, not a negative rate. */
export function addSample(series: StatsSeries, sample: StatsSample, atMs: number, max = MAX_POINTS): StatsSeries {
  const at = atMs / 1000;
  let rx = 0;
  let tx = 0;
  if (series.last && at > series.last.at) {
    const dt = at - series.last.at;
    rx = Math.max(0, sample.networkRxBytes - series.last.rx) / dt;
    tx = Math.max(0, sample.networkTxBytes - series.last.tx) / dt;
  }
  return {
    time: push(series.time, at, max),
    cpu: push(series.cpu, sample.cpuPercent, max),
    memory: push(series.memory, sample.memoryBytes, max),
    rxRate: push(series.rxRate, rx, max),
    txRate: push(series.txRate, tx, max),
    memoryLimitBytes: sample.memoryLimitBytes,
    last: { at, rx: sample.networkRxBytes, tx: sample.networkTxBytes },
  };
}
