import type { AppliedDefault, ServiceSpec } from '../../../shared/contract/workloads';

export const LATENCY_CRITICAL_LABEL = 'outpost.latency-critical';
export const DEFAULT_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_LOG_OPTIONS = { 'max-size': '10m', 'max-file': '3' };

function isLatencyCritical(spec: ServiceSpec): boolean {
  return /^(true|yes|1)$/i.test(spec.labels[LATENCY_CRITICAL_LABEL] ?? '');
}

/**
 * The edge defaults from our deployment notes, applied only where the user left a field unset, so every one is
 * overridable in the compose file. Returns the reasons so the technician sees them before anything is sent.
 */
export function applyEdgeDefaults(input: ServiceSpec): { spec: ServiceSpec; applied: AppliedDefault[] } {
  const spec: ServiceSpec = structuredClone(input);
  const applied: AppliedDefault[] = [];
  const note = (field: string, value: unknown, reason: string) => applied.push({ service: spec.name, field, value, reason });

  if (spec.restart === undefined) {
    spec.restart = { name: 'unless-stopped' };
    note('restart', 'unless-stopped', 'come back after a crash or a power cut, but stay down when a technician stops it');
  }
  if (spec.capDrop === undefined) {
    spec.capDrop = ['ALL'];
    note('cap_drop', ['ALL'], 'a device on an open site runs with least privilege; add back what the service needs with cap_add');
  }
  if (spec.readOnly === undefined) {
    spec.readOnly = true;
    note('read_only', true, 'a read-only root survives power cuts and tampering; state belongs in volumes');
    const hasTmp = (spec.tmpfs ?? []).some((t) => t.split(':')[0] === '/tmp') || spec.volumes.some((v) => v.target === '/tmp');
    if (!hasTmp) {
      spec.tmpfs = [...(spec.tmpfs ?? []), '/tmp:rw,noexec,nosuid,size=64m'];
      note('tmpfs', '/tmp', 'programs still need a writable /tmp under a read-only root; tmpfs keeps it in RAM, off the SD card');
    }
  }
  const securityOpt = spec.securityOpt ?? [];
  if (!securityOpt.some((o) => o.startsWith('no-new-privileges'))) {
    spec.securityOpt = [...securityOpt, 'no-new-privileges:true'];
    note('security_opt', 'no-new-privileges:true', 'setuid binaries cannot regain the dropped privileges');
  }
  if (spec.memLimitBytes === undefined) {
    spec.memLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES;
    note('mem_limit', '256m', 'one leaking service must not push the whole device into the OOM killer');
  }
  if (spec.logging === undefined) {
    spec.logging = { driver: 'json-file', options: { ...DEFAULT_LOG_OPTIONS } };
    note('logging', { driver: 'json-file', options: DEFAULT_LOG_OPTIONS }, 'logs rotate so they never fill the flash storage');
  }
  if (spec.networkMode === undefined && isLatencyCritical(spec)) {
    spec.networkMode = 'host';
    note('network_mode', 'host', `marked ${LATENCY_CRITICAL_LABEL}: host networking skips the bridge and NAT hop`);
  }
  return { spec, applied };
}

/** A service that binds fixed host ports cannot run twice side by side: the rollout must stop the old one first. */
export function bindsFixedHostPorts(spec: ServiceSpec): boolean {
  return spec.networkMode === 'host' || spec.ports.some((p) => p.host !== undefined);
}
