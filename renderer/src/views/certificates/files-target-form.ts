import type { FilesTarget } from '../../../../shared/contract';
import { DEVICE_PATH_MESSAGE, DEVICE_PATH_RE, FILE_OWNER_MESSAGE, FILE_OWNER_RE, KEY_MODE_MESSAGE, KEY_MODE_RE } from '../../../../shared/contract/pki-names';

/** The wizard's files-target fields as typed; the reload command is a list of argv words, never one shell string. */
export interface FilesForm {
  certPath: string;
  keyPath: string;
  caPath: string;
  owner: string;
  keyMode: string;
  reload: string[];
}

export const EMPTY_FILES_FORM: FilesForm = { certPath: '', keyPath: '', caPath: '', owner: 'root:root', keyMode: '0600', reload: [] };

export type FilesFormErrors = Partial<Record<keyof FilesForm, string>>;

const MAX_RELOAD_WORDS = 32;
const MAX_WORD = 500;

/**
 * Checks the fields with the contract's own rules (the core checks them again) and builds the contract's
 * FilesTarget: `errors` is empty exactly when `target` is set. Blank owner and mode take the CLI's defaults.
 */
export function filesTargetFromForm(form: FilesForm): { target: FilesTarget | null; errors: FilesFormErrors } {
  const errors: FilesFormErrors = {};
  const certPath = form.certPath.trim();
  const keyPath = form.keyPath.trim();
  const caPath = form.caPath.trim();
  const owner = form.owner.trim() || 'root:root';
  const keyMode = form.keyMode.trim() || '0600';
  const path = (field: 'certPath' | 'keyPath' | 'caPath', value: string, required: boolean) => {
    if (!value) {
      if (required) errors[field] = 'required: an absolute file path on the device';
    } else {
      const problem = pathProblem(value);
      if (problem) errors[field] = problem;
    }
  };
  path('certPath', certPath, true);
  path('keyPath', keyPath, true);
  path('caPath', caPath, false);
  if (!errors.keyPath && keyPath && keyPath === certPath) errors.keyPath = 'the key and the certificate must go to different paths';
  if (!errors.caPath && caPath && (caPath === certPath || caPath === keyPath)) errors.caPath = 'the CA certificate must go to its own path';
  if (!FILE_OWNER_RE.test(owner)) errors.owner = `must be ${FILE_OWNER_MESSAGE} (e.g. root:root)`;
  if (!KEY_MODE_RE.test(keyMode)) errors.keyMode = `must be ${KEY_MODE_MESSAGE} (digits 0-7)`;
  const reload = form.reload.filter((w) => w.length > 0);
  if (reload.length > MAX_RELOAD_WORDS) errors.reload = `at most ${MAX_RELOAD_WORDS} words`;
  else if (reload.some((w) => w.length > MAX_WORD)) errors.reload = `each word at most ${MAX_WORD} characters`;
  else if (reload.some((w) => w.includes('\0') || w.includes('\n'))) errors.reload = 'a word may not contain a newline or NUL';
  // "systemctl reload nginx" typed as one entry would run a program of that whole name: each word is its own entry.
  else if (reload[0] && /\s/.test(reload[0])) errors.reload = `the program is one word: enter "${reload[0].trim().split(/\s+/)[0] ?? ''}" and each argument as its own entry (Enter after each)`;
  if (Object.keys(errors).length) return { target: null, errors };
  return { target: { certPath, keyPath, ...(caPath ? { caPath } : {}), owner, keyMode, ...(reload.length ? { reload } : {}) }, errors };
}

/** The contract's path rule, said for the one thing wrong with this path. */
function pathProblem(value: string): string | null {
  if (!value.startsWith('/')) return 'must be an absolute path (start with /)';
  if (/(^|\/)\.{1,2}(\/|$)/.test(value)) return 'no . or .. segments: a path that climbs out of its directory is refused';
  if (value.endsWith('/')) return 'must name a file, not a directory (no trailing /)';
  return DEVICE_PATH_RE.test(value) ? null : `must be ${DEVICE_PATH_MESSAGE}`;
}

/** How the reload will run, for the review: each word shown as the device receives it (quoted when it needs it). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
