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
  /** The container that held the service's name when the rollout began (null on a first deploy). */
  oldId: z.string().nullable().default(null),
  /** It was running then: an undo starts it again. */
  oldRunning: z.boolean().default(false),
  /** The candidate, once created (it is named `<svc>.outpost-next` until promoted). */
  candidateId: z.string().nullable().default(null),
});
export type ServiceState = z.infer<typeof ServiceState>;

// One exec per step: the state file replaced atomically (and synced: a power cut must not lose a phase), then the
// record appended to the device's own history. The body is the state line, then the record line.
// (`read` takes exactly one line from the pipe; `head` would swallow the rest.)
const WRITE_SCRIPT = 'mkdir -p "$1" && IFS= read -r line && printf "%s\\n" "$line" > "$2.tmp" && { sync "$2.tmp" 2>/dev/null; true; } && mv -f "$2.tmp" "$2" && cat >> "$3"';

const stateFile = (service: string) => `${DEPLOYS_DIR}/${service}.json`;

export async function writeServiceState(conn: SshConnection, state: ServiceState): Promise<void> {
  const body = `${JSON.stringify(state)}\n${JSON.stringify(state.record)}\n`;
  const r = await conn.run(['sh', '-c', WRITE_SCRIPT, 'sh', DEPLOYS_DIR, stateFile(state.record.service), `${DEPLOYS_DIR}/history.jsonl`], { input: body });
  if (r.code !== 0) throw new OutpostError('protocol', `cannot write the deploy state on the device: ${r.stderr.trim()}`);
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
