// Names and pure helpers of the PKI contract without zod: the CLI's start-up imports these, not the schemas.

export const KEY_ALGORITHMS = ['ec-p256', 'rsa-3072', 'ed25519'] as const;
export const PROFILE_NAMES = ['docker-server', 'docker-client', 'mqtt-server', 'mqtt-client', 'device-identity'] as const;
export const INSTALL_TARGETS = ['docker', 'mqtt', 'files'] as const;
/** A device's provisioning, step by step: connect, clock check, key on the device, sign, store, install, verify. */
export const PROVISION_STAGES = ['queued', 'connect', 'clock', 'key', 'sign', 'store', 'install', 'verify', 'done', 'failed'] as const;

export const EXPIRY_WARNING_DAYS = 30;

/** The files target's rules, shared by the contract's schema and the wizard's form (one set, no second copy). */
/** An absolute file path on the device: no `.` or `..` segment (no traversal), not a directory (no trailing /). */
export const DEVICE_PATH_RE = /^(?!.*\/\.{1,2}(?:\/|$))(?!.*\/$)\/[^\0\n]{1,500}$/;
export const DEVICE_PATH_MESSAGE = 'an absolute file path (starts with /, does not end with /) with no . or .. segments';
export const FILE_OWNER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/;
export const FILE_OWNER_MESSAGE = 'user or user:group';
export const KEY_MODE_RE = /^0?[0-7]{3}$/;
export const KEY_MODE_MESSAGE = 'an octal mode such as 0600';

/** `expired`, `expiring` (under 30 days left) or `ok`: the colour the Certificates view and the Devices list show. */
export function expiryState(notAfter: Date | string, now = new Date()): 'expired' | 'expiring' | 'ok' {
  const end = typeof notAfter === 'string' ? new Date(notAfter) : notAfter;
  const left = end.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  return left < EXPIRY_WARNING_DAYS * 86_400_000 ? 'expiring' : 'ok';
}
