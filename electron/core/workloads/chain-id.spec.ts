import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainIds, missingLayers } from './chain-id';

const d = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('chain IDs', () => {
  it('follow Docker’s definition', () => {
    const [a, b] = [d('a'), d('b')];
    const chains = chainIds([a, b]);
    expect(chains[0]).toBe(a);
    expect(chains[1]).toBe(d(`${a} ${b}`));
  });

  it('a layer is missing when its chain is, even if the same diff sits on another parent', () => {
    const [a, b, c] = [d('a'), d('b'), d('c')];
    const device = new Set(chainIds([a, b]));
    expect(missingLayers([a, b, c], device)).toEqual([false, false, true]);
    expect(missingLayers([c, b], device)).toEqual([true, true]);
  });
});
