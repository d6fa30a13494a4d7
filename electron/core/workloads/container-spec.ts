import type Docker from 'dockerode';
import type { ServiceSpec } from '../../../shared/contract/workloads';

export const LABEL_SERVICE = 'outpost.service';
export const LABEL_DEPLOY = 'outpost.deploy-id';
export const LABEL_SPEC = 'outpost.spec-hash';

const NANO = 1_000_000;

/** The Engine API body for one service (pure: tested without an engine). */
export function toCreateOptions(spec: ServiceSpec, name: string, imageId: string, extraLabels: Record<string, string>): Docker.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>> = {};
  for (const p of spec.ports) {
    const key = `${p.container}/${p.protocol}`;
    exposed[key] = {};
    if (p.host !== undefined) (bindings[key] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: String(p.host) });
  }
  const tmpfs: Record<string, string> = {};
  for (const t of spec.tmpfs ?? []) {
    const colon = t.indexOf(':');
    tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
  }
  const health = spec.healthcheck;
  return {
    name,
    Image: imageId,
    Cmd: spec.command,
    Entrypoint: spec.entrypoint,
    Env: Object.entries(spec.environment).map(([k, v]) => `${k}=${v}`),
    Labels: { ...spec.labels, ...extraLabels },
    User: spec.user,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Healthcheck:
      health === null
        ? { Test: ['NONE'] }
        : health
          ? {
              Test: health.test,
              Interval: health.intervalMs === undefined ? undefined : health.intervalMs * NANO,
              Timeout: health.timeoutMs === undefined ? undefined : health.timeoutMs * NANO,
              StartPeriod: health.startPeriodMs === undefined ? undefined : health.startPeriodMs * NANO,
              Retries: health.retries,
            }
          : undefined,
    HostConfig: {
      NetworkMode: spec.networkMode,
      PortBindings: Object.keys(bindings).length ? bindings : undefined,
      Binds: spec.volumes.map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`),
      Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
      CpusetCpus: spec.cpuset,
      NanoCpus: spec.cpus === undefined ? undefined : Math.round(spec.cpus * 1e9),
      Memory: spec.memLimitBytes,
      RestartPolicy: spec.restart ? { Name: spec.restart.name === 'no' ? '' : spec.restart.name, MaximumRetryCount: spec.restart.maximumRetryCount } : undefined,
      CapDrop: spec.capDrop,
      CapAdd: spec.capAdd.length ? spec.capAdd : undefined,
      ReadonlyRootfs: spec.readOnly,
      Devices: spec.devices.map((d) => ({ PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.permissions })),
      LogConfig: spec.logging ? { Type: spec.logging.driver, Config: spec.logging.options } : undefined,
      SecurityOpt: spec.securityOpt,
    },
  };
}
