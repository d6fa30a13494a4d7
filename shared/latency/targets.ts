/**
 * What a latency probe measures, parsed from the one-line form the CLI and the UI share:
 *   tcp:PORT | tcp:HOST:PORT        TCP connect time
 *   ssh                             SSH round trip over the device's persistent connection
 *   docker                          Docker API /_ping over the device's link
 *   http:PORT/PATH | http:URL       HTTP(S) GET: time to first byte and total (URL = http://… or https://…)
 *   mqtt | mqtt:PORT | mqtt:URL     MQTT publish → receive through a broker (mqtt://… or mqtts://…)
 *   icmp | icmp:HOST                ICMP echo (iputils ping)
 * A host left out means the device's own address. Pure: no I/O, so the renderer validates with it too.
 */
export type ProbeTarget =
  | { kind: 'tcp'; host?: string; port: number }
  | { kind: 'ssh' }
  | { kind: 'docker' }
  | { kind: 'http'; tls: boolean; host?: string; port: number; path: string }
  | { kind: 'mqtt'; tls: boolean; host?: string; port: number }
  | { kind: 'icmp'; host?: string };

export type ProbeKind = ProbeTarget['kind'];
/** Probes that can also run on the device itself (the same probe, measured from there). */
export const ON_DEVICE_KINDS: readonly ProbeKind[] = ['tcp', 'http'];

export class TargetError extends Error {}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])$/;

function port(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new TargetError(`${what}: ${JSON.stringify(text)} is not a port number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new TargetError(`${what}: port ${n} is out of range 1-65535`);
  return n;
}

function host(text: string, what: string): string {
  if (!HOST.test(text)) throw new TargetError(`${what}: ${JSON.stringify(text)} is not a hostname or IP address`);
  return text.startsWith('[') ? text.slice(1, -1) : text;
}

/** scheme → [tls, default port] */
type Schemes = Record<string, readonly [boolean, number]>;
const HTTP_SCHEMES: Schemes = { http: [false, 80], https: [true, 443] };
const MQTT_SCHEMES: Schemes = { mqtt: [false, 1883], mqtts: [true, 8883] };

function fromUrl(text: string, schemes: Schemes, what: string): { tls: boolean; host: string; port: number; path: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TargetError(`${what}: ${JSON.stringify(text)} is not a URL`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const known = schemes[scheme];
  if (known === undefined) throw new TargetError(`${what}: scheme ${scheme}: is not one of ${Object.keys(schemes).join(', ')}`);
  if (url.username || url.password) throw new TargetError(`${what}: credentials in the URL are not supported`);
  const h = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!h) throw new TargetError(`${what}: the URL has no host`);
  return { tls: known[0], host: h, port: url.port ? Number(url.port) : known[1], path: `${url.pathname}${url.search}` || '/' };
}

export function parseTarget(spec: string): ProbeTarget {
  const text = spec.trim();
  const what = `target ${JSON.stringify(text)}`;
  if (text.length === 0 || text.length > 2048) throw new TargetError('a target is tcp:HOST:PORT, ssh, docker, http:URL, mqtt:URL or icmp');
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)).toLowerCase();
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'ssh':
    case 'docker':
      if (rest) throw new TargetError(`${what}: ${kind} takes no address (it uses the device's own link)`);
      return { kind };
    case 'tcp': {
      if (!rest) throw new TargetError(`${what}: give tcp:PORT or tcp:HOST:PORT`);
      const last = rest.lastIndexOf(':');
      if (last < 0) return { kind: 'tcp', port: port(rest, what) };
      return { kind: 'tcp', host: host(rest.slice(0, last), what), port: port(rest.slice(last + 1), what) };
    }
    case 'http':
    case 'https': {
      if (rest.startsWith('//')) return { kind: 'http', ...fromUrl(text, HTTP_SCHEMES, what) };
      if (/^https?:\/\//i.test(rest)) return { kind: 'http', ...fromUrl(rest, HTTP_SCHEMES, what) };
      const m = /^(\d{1,5})(\/.*)?$/.exec(rest);
      if (!m) throw new TargetError(`${what}: give http:PORT/PATH or http:http://HOST:PORT/PATH`);
      return { kind: 'http', tls: kind === 'https', port: port(m[1] as string, what), path: m[2] ?? '/' };
    }
    case 'mqtt':
    case 'mqtts': {
      const tls = kind === 'mqtts';
      if (!rest) return { kind: 'mqtt', tls, port: tls ? 8883 : 1883 };
      const url = rest.startsWith('//') ? text : /^mqtts?:\/\//i.test(rest) ? rest : undefined;
      if (url !== undefined) {
        const u = fromUrl(url, MQTT_SCHEMES, what);
        return { kind: 'mqtt', tls: u.tls, host: u.host, port: u.port };
      }
      return { kind: 'mqtt', tls, port: port(rest, what) };
    }
    case 'icmp':
    case 'ping':
      return rest ? { kind: 'icmp', host: host(rest, what) } : { kind: 'icmp' };
    default:
      throw new TargetError(`${what}: unknown probe ${JSON.stringify(kind)}; use tcp, ssh, docker, http, mqtt or icmp`);
  }
}

const hostPart = (h: string | undefined) => (h === undefined ? '' : h.includes(':') ? `[${h}]` : h);

/** The canonical one-line form (what the UI shows and what identifies a series with its device). */
export function formatTarget(t: ProbeTarget): string {
  switch (t.kind) {
    case 'ssh':
    case 'docker':
      return t.kind;
    case 'tcp':
      return t.host === undefined ? `tcp:${t.port}` : `tcp:${hostPart(t.host)}:${t.port}`;
    case 'http':
      return t.host === undefined ? `${t.tls ? 'https' : 'http'}:${t.port}${t.path}` : `${t.tls ? 'https' : 'http'}://${hostPart(t.host)}:${t.port}${t.path}`;
    case 'mqtt':
      return t.host === undefined ? `${t.tls ? 'mqtts' : 'mqtt'}:${t.port}` : `${t.tls ? 'mqtts' : 'mqtt'}://${hostPart(t.host)}:${t.port}`;
    case 'icmp':
      return t.host === undefined ? 'icmp' : `icmp:${hostPart(t.host)}`;
  }
}
