/**
 * Errors are values at the boundary, exceptions inside. Every failure carries a `kind` set where it happens,
 * so the UI, the CLI and tests can react to it the same way whatever transport carried it.
 */
export const ERROR_KINDS = [
  'invalid-input',
  'not-found',
  'conflict',
  'auth',
  'timeout',
  'unreachable',
  'host-key-changed',
  'host-key-unknown',
  'engine-http',
  'engine-not-found',
  'protocol',
  'integrity',
  'disk-full',
  'unsupported',
  'cancelled',
  'busy',
  // pki: a device clock the certificate would not be valid on; a CSR the profile refuses; an install rolled back;
  // a CA past its notAfter
  'clock-skew',
  'policy',
  'rolled-back',
  'expired',
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface ErrorBody {
  kind: ErrorKind;
  message: string;
  details?: Record<string, unknown>;
}

export type Envelope<T> = { result: T } | { error: ErrorBody };

export class OutpostError extends Error {
  readonly kind: ErrorKind;
  readonly details?: Record<string, unknown>;
  constructor(kind: ErrorKind, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'OutpostError';
    this.kind = kind;
    this.details = details;
  }
}

export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && (ERROR_KINDS as readonly string[]).includes(value);
}

/** Turns anything thrown into the wire form. Unknown errors become `internal` with their message kept. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof OutpostError) {
    return err.details ? { kind: err.kind, message: err.message, details: err.details } : { kind: err.kind, message: err.message };
  }
  if (err && typeof err === 'object') {
    const e = err as { kind?: unknown; message?: unknown; code?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    if (isErrorKind(e.kind)) return { kind: e.kind, message };
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return { kind: 'disk-full', message };
    if (e.code === 'ETIMEDOUT') return { kind: 'timeout', message };
    if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return { kind: 'unreachable', message };
    return { kind: 'internal', message };
  }
  return { kind: 'internal', message: String(err) };
}

/** The calling side of every transport: re-throws an error envelope as an OutpostError. */
export function unwrap<T>(envelope: Envelope<T>): T {
  if ('error' in envelope) {
    throw new OutpostError(envelope.error.kind, envelope.error.message, envelope.error.details);
  }
  return envelope.result;
}
