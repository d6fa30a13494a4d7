import { z } from 'zod';
import { DeployRecord, ServiceSpec } from '../../../shared/contract/workloads';
import { OutpostError } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';

export const DEPLOYS_DIR = '/var/lib/outpost/deploys';

/** What the device remembers about a service's last rollout, so a later session (any laptop) can finish or undo it. */
export const ServiceState = z.object({
  record: DeployRecord,
  spec: ServiceSpec,
  fixedPorts: z.boolean(),
  /** The old container was stopped by us (fixed ports) and must be started again if we undo. */
  oldStopped: z.boolean(),
});
export type ServiceState = z.infer<typeof ServiceState>;

const WRITE_SCRIPT = 'mkdir -p "$1" && cat > "$2.tmp" && mv -f "$2.tmp" "$2" && sync "$2" 2>/dev/null; true';
const APPEND_SCRIPT = 'mkdir -p "$1" && cat >> "$2"';

const stateFile = (service: string) => `${DEPLOYS_DIR}/${service}.json`;

export async function writeServiceState(conn: SshConnection, state: ServiceState): Promise<void> {
  const body = JSON.stringify(state);
  const r = await conn.run(['sh', '-c', WRITE_SCRIPT, 'sh', DEPLOYS_DIR, stateFile(state.record.service)], { input: body });
  if (r.code !== 0) throw new OutpostError('protocol', `cannot write the deploy state on the device: ${r.stderr.trim()}`);
  await conn.run(['sh', '-c', APPEND_SCRIPT, 'sh', DEPLOYS_DIR, `${DEPLOYS_DIR}/history.jsonl`], { input: `${JSON.stringify(state.record)}\n` });
}

export async function readServiceStates(conn: SshConnection): Promise<ServiceState[]> {
  const r = await conn.run(['sh', '-c', 'for f in "$1"/*.json; do [ -f "$f" ] && cat "$f" && echo; done; true', 'sh', DEPLOYS_DIR]);
  const out: ServiceState[] = [];
  for (const line of r.stdout.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = ServiceState.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // A half-written state file (power cut mid-write) is skipped; the containers' names still tell the story.
    }
  }
  return out;
}

export async function readDeviceHistory(conn: SshConnection): Promise<string> {
  const r = await conn.run(['sh', '-c', '[ -f "$1" ] && tail -n 1000 "$1"; true', 'sh', `${DEPLOYS_DIR}/history.jsonl`]);
  return r.stdout.toString('utf8');
}
