import { createHash } from 'node:crypto';

/** Docker's chain IDs: the first layer's is its diff ID, each next one is sha256("<parent chain> <diff id>"). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const parent = out.at(-1);
    out.push(parent === undefined ? diffId : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`);
  }
  return out;
}

/**
 * Which of an image's layers a device lacks, given the chain IDs its engine already holds. Docker's load skips a
 * layer whose chain exists (checked on dockerd 20.10), so only the missing suffix has to cross the link.
 */
export function missingLayers(diffIds: readonly string[], deviceChains: ReadonlySet<string>): boolean[] {
  return chainIds(diffIds).map((chain) => !deviceChains.has(chain));
}
