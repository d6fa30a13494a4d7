import { describe, expect, it } from 'vitest';
import { parseCompose } from './compose';
import { applyEdgeDefaults, bindsFixedHostPorts } from './edge-defaults';
import { toCreateOptions } from './container-spec';

const GOOD = `services:
  web:
    image: app:2
    command: sh -c 'httpd -f -p 8080'
    environment:
      - MODE=edge
      - API_TOKEN=abc
    ports: ["8080:80/tcp"]
    mem_limit: 128m
    healthcheck:
      test: ["CMD", "wget", "-q", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 3
    labels:
      outpost.latency-critical: "true"
`;

describe('compose subset', () => {
  it('normalises a service', () => {
    const [web] = parseCompose(GOOD, { fileName: 'compose.yml' });
    expect(web?.command).toEqual(['sh', '-c', 'httpd -f -p 8080']);
    expect(web?.environment).toEqual({ MODE: 'edge', API_TOKEN: 'abc' });
    expect(web?.ports).toEqual([{ hostIp: undefined, host: 8080, container: 80, protocol: 'tcp' }]);
    expect(web?.memLimitBytes).toBe(128 * 1024 * 1024);
    expect(web?.healthcheck?.intervalMs).toBe(1000);
  });

  it('points at the line and column of a bad value', () => {
    const bad = GOOD.replace('mem_limit: 128m', 'mem_limit: lots');
    expect(() => parseCompose(bad, { fileName: 'compose.yml' })).toThrow(/^compose\.yml:9:16: services\.web\.mem_limit: expected a size/);
  });

  it('points at an unknown key', () => {
    const bad = GOOD.replace('    mem_limit: 128m', '    mem_limt: 128m');
    expect(() => parseCompose(bad, { fileName: 'c.yml' })).toThrow(/^c\.yml:\d+:\d+: services\.web: .*mem_limt/);
  });

  it('reports YAML syntax errors with a position and kind invalid-input', () => {
    let caught: unknown;
    try {
      parseCompose('services:\n  web:\n    image: [unclosed\n', { fileName: 'x.yml' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ kind: 'invalid-input' });
    expect((caught as Error).message).toMatch(/^x\.yml:\d+:\d+: /);
  });
});

describe('edge defaults', () => {
  it('applies each default with a reason and keeps what the user set', () => {
    const [web] = parseCompose(GOOD, { fileName: 'compose.yml' });
    const { spec, applied } = applyEdgeDefaults(web!);
    const fields = applied.map((a) => a.field);
    expect(fields).toEqual(['restart', 'cap_drop', 'read_only', 'tmpfs', 'security_opt', 'logging', 'network_mode']);
    expect(fields).not.toContain('mem_limit');
    expect(spec.memLimitBytes).toBe(128 * 1024 * 1024);
    expect(spec.networkMode).toBe('host');
    expect(spec.tmpfs?.[0]).toMatch(/^\/tmp:/);
    expect(bindsFixedHostPorts(spec)).toBe(true);
    for (const a of applied) expect(a.reason.length).toBeGreaterThan(10);
  });

  it('is overridable field by field', () => {
    const text = `services:\n  s:\n    image: a:1\n    restart: "no"\n    cap_drop: []\n    read_only: false\n    network_mode: none\n    security_opt: ["no-new-privileges:false"]\n    mem_limit: 1g\n    logging: {driver: local}\n    labels: {outpost.latency-critical: "true"}\n`;
    const { applied, spec } = applyEdgeDefaults(parseCompose(text, { fileName: 'c.yml' })[0]!);
    expect(applied).toEqual([]);
    expect(spec.networkMode).toBe('none');
    const create = toCreateOptions(spec, 's', 'sha256:x', {});
    expect(create.HostConfig?.RestartPolicy?.Name).toBe('');
    expect(create.HostConfig?.ReadonlyRootfs).toBe(false);
  });
});
