import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { ServiceSpec } from '../../../shared/contract/workloads';
import { OutpostError } from '../../../shared/errors';
import { splitCommand } from './command-line';
import { ComposeFile, parseByteSize, parseDurationMs, type ComposeService } from './compose-schema';

export interface ComposeOptions {
  /** Shown in error messages (`compose.yml:7:5: ...`). */
  fileName: string;
  /** Reads an env_file named relative to the compose file; the caller decides where files may come from. */
  readEnvFile?: (path: string) => string;
}

function position(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): string {
  // The deepest node that exists: a missing key points at the mapping that should hold it.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      const { line, col } = counter.linePos(node.range[0]);
      return `${line}:${col}`;
    }
  }
  return '1:1';
}

/** Parses and validates a compose subset, keeping line:column in every error; returns normalised services. */
export function parseCompose(text: string, opts: ComposeOptions): ServiceSpec[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const { line, col } = counter.linePos(yamlError.pos[0]);
    throw new OutpostError('invalid-input', `${opts.fileName}:${line}:${col}: ${yamlError.message.split('\n')[0]}`, { line, column: col });
  }
  const parsed = ComposeFile.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const where = position(doc, counter, path);
    const field = path.length ? `${path.join('.')}: ` : '';
    const [line, column] = where.split(':').map(Number);
    throw new OutpostError('invalid-input', `${opts.fileName}:${where}: ${field}${issue?.message ?? 'invalid compose file'}`, { line, column });
  }
  const fail = (path: PropertyKey[], message: string): never => {
    const where = position(doc, counter, path);
    throw new OutpostError('invalid-input', `${opts.fileName}:${where}: ${path.join('.')}: ${message}`);
  };
  return Object.entries(parsed.data.services).map(([name, svc]) => normaliseService(name, svc, opts, (p, m) => fail(['services', name, ...p], m)));
}

type Fail = (path: PropertyKey[], message: string) => never;

function keyValues(value: ComposeService['environment'], what: string, fail: Fail, field: string): Record<string, string> {
  if (value === undefined) return {};
  if (!Array.isArray(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? '' : String(v)]));
  const out: Record<string, string> = {};
  value.forEach((item, i) => {
    const eq = item.indexOf('=');
    if (eq === 0) fail([field, i], `expected ${what} NAME=value`);
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  });
  return out;
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1);
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out[line.slice(0, eq).trim()] = value;
  }
  return out;
}

function asList(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : splitCommand(v);
}

function normaliseService(name: string, svc: ComposeService, opts: ComposeOptions, fail: Fail): ServiceSpec {
  const envFiles = svc.env_file === undefined ? [] : Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
  let environment: Record<string, string> = {};
  envFiles.forEach((file, i) => {
    if (!opts.readEnvFile) fail(['env_file', i], 'env_file is not available here (give the compose file by path)');
    else {
      let text = '';
      try {
        text = opts.readEnvFile(file);
      } catch (err) {
        fail(['env_file', i], `cannot read ${file}: ${(err as Error).message}`);
      }
      environment = { ...environment, ...parseEnvFile(text) };
    }
  });
  environment = { ...environment, ...keyValues(svc.environment, 'environment', fail, 'environment') };

  const ports = (svc.ports ?? []).map((p, i) => {
    const m = /^(?:(?:([\d.]+):)?(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(String(p));
    if (!m) return fail(['ports', i], 'expected [ip:][host:]container[/tcp|udp]');
    const host = m[2] === undefined ? undefined : Number(m[2]);
    const container = Number(m[3]);
    if (container < 1 || container > 65535 || (host !== undefined && (host < 1 || host > 65535))) return fail(['ports', i], 'port out of range 1-65535');
    return { hostIp: m[1], host, container, protocol: (m[4] ?? 'tcp') as 'tcp' | 'udp' };
  });

  const volumes = (svc.volumes ?? []).map((v, i) => {
    const parts = v.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]?.startsWith('/')) return fail(['volumes', i], 'expected source:/target[:ro|rw]');
    const mode = parts[2] ?? 'rw';
    if (mode !== 'ro' && mode !== 'rw') return fail(['volumes', i], `unknown mode ${mode} (ro or rw)`);
    const source = parts[0];
    return { source, target: parts[1], readOnly: mode === 'ro', type: source.startsWith('/') || source.startsWith('.') ? ('bind' as const) : ('volume' as const) };
  });

  const devices = (svc.devices ?? []).map((d, i) => {
    const [host, container, permissions] = d.split(':');
    if (!host?.startsWith('/')) return fail(['devices', i], 'expected /dev/host[:/dev/container[:rwm]]');
    return { host, container: container ?? host, permissions: permissions ?? 'rwm' };
  });

  let restart: ServiceSpec['restart'];
  if (svc.restart) {
    const [policy, max] = svc.restart.split(':');
    restart = { name: policy as NonNullable<ServiceSpec['restart']>['name'], ...(max ? { maximumRetryCount: Number(max) } : {}) };
  }

  let healthcheck: ServiceSpec['healthcheck'];
  if (svc.healthcheck) {
    const h = svc.healthcheck;
    if (h.disable) healthcheck = null;
    else {
      const test = Array.isArray(h.test) ? h.test : h.test === undefined ? undefined : ['CMD-SHELL', h.test];
      if (!test?.length || !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0] ?? '')) fail(['healthcheck', 'test'], 'expected a test: [CMD, ...], [CMD-SHELL, "..."] or a shell string');
      healthcheck = {
        test: test ?? [],
        intervalMs: h.interval === undefined ? undefined : parseDurationMs(h.interval),
        timeoutMs: h.timeout === undefined ? undefined : parseDurationMs(h.timeout),
        startPeriodMs: h.start_period === undefined ? undefined : parseDurationMs(h.start_period),
        retries: h.retries,
      };
    }
  }

  const logging = svc.logging
    ? { driver: svc.logging.driver ?? 'json-file', options: Object.fromEntries(Object.entries(svc.logging.options ?? {}).map(([k, v]) => [k, String(v)])) }
    : undefined;

  return {
    name,
    image: svc.image,
    command: asList(svc.command),
    entrypoint: asList(svc.entrypoint),
    environment,
    envFiles,
    ports,
    volumes,
    tmpfs: svc.tmpfs === undefined ? undefined : Array.isArray(svc.tmpfs) ? svc.tmpfs : [svc.tmpfs],
    networkMode: svc.network_mode,
    cpuset: svc.cpuset,
    cpus: svc.cpus === undefined ? undefined : Number(svc.cpus),
    memLimitBytes: svc.mem_limit === undefined ? undefined : parseByteSize(svc.mem_limit),
    restart,
    healthcheck,
    capDrop: svc.cap_drop,
    capAdd: svc.cap_add ?? [],
    readOnly: svc.read_only,
    user: svc.user === undefined ? undefined : String(svc.user),
    devices,
    labels: keyValues(svc.labels, 'label', fail, 'labels'),
    logging,
    securityOpt: svc.security_opt,
  };
}
