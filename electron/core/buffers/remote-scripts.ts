/**
 * Small POSIX-sh programs Outpost runs on devices (busybox ash and dash both run them). Each is a constant passed
 * as `sh -c SCRIPT NAME ARG...`: spool names travel only as quoted argv words or as stdin lines the script reads
 * as data, never spliced into script text, and the laptop has validated every name it sends (see spool-names.ts).
 */

/**
 * Lists a spool root in ONE process tree (an exec costs ~100 ms in the lab, more on a loaded gateway):
 * 1. regular files directly in `<root>/<stream>/ready/`, NUL-terminated, then an empty record;
 * 2. anything else there (symlinks, FIFOs, directories), NUL-terminated, then an empty record;
 * 3. `size mtime ./<stream>/ready/<name>` lines from one `stat` per batch of `find -exec {} +`, only for names made
 *    of `A-Z a-z 0-9 . _ -` (stream and file), so no name can forge a line. The laptop still validates every
 *    name from part 1 with its own, stricter rules and ignores sizes of names it refused.
 * `find -P` never follows a symlinked stream or ready directory; a symlinked root counts as absent (exit 3).
 */
export const SCAN_SPOOL = [
  'r=$1',
  '{ [ -d "$r" ] && [ ! -L "$r" ]; } || { echo "no-spool" >&2; exit 3; }',
  'find "$r" -mindepth 3 -maxdepth 3 -path "$r/*/ready/*" -type f -print0',
  "printf '\\0'",
  'find "$r" -mindepth 3 -maxdepth 3 -path "$r/*/ready/*" ! -type f -print0',
  "printf '\\0'",
  'cd "$r" || exit 3',
  "find . -mindepth 3 -maxdepth 3 -path './*/ready/*' -type f ! -name '*[!A-Za-z0-9._-]*' ! -path './*[!A-Za-z0-9._-]*/ready/*' -exec stat -c '%s %Y %n' {} +",
].join('\n');

/**
 * The transfer: reads validated relative paths, one per line, from stdin (so the channel can be opened while the
 * listing runs, and no argv limit applies), concatenates them all with `cat` (no per-file fork or header) and
 * prints a trailer with the exit status. The laptop splits the stream with the sizes it measured
 * (sized-splitter.ts). Validated names hold no blanks, quotes or backslashes, so xargs takes each line verbatim.
 */
export const CAT_STDIN_FILES = ['cd "$1" || exit 3', 'xargs cat --', "printf '\\nOUTPOST-END %s\\n' \"$?\""].join('\n');

/** Reads many small files given as argv (sidecars of segments the laptop may already hold). */
export const CAT_FILES = ['cd "$1" || exit 3', 'shift', 'cat -- "$@"', "printf '\\nOUTPOST-END %s\\n' \"$?\""].join('\n');

/** sha256 of validated relative paths, `hex  rel` per line, in one process (run beside the transfer). */
export const HASH_FILES = ['cd "$1" || exit 3', 'shift', 'sha256sum -- "$@" 2>/dev/null', 'exit 0'].join('\n');

/**
 * Acknowledges on one long-lived channel, opened at the start of a flush so no exec sits on the critical path.
 * Reads batches of validated relative paths (one per line, each batch closed by a line `.`) and answers `ok` per
 * batch once it is applied. A batch cut short (the laptop died mid-write) is never applied: `read` fails at EOF
 * before the closing `.`. `$2` is `delete` (rm -f the files given, sidecars included) or `move` (to
 * `<stream>/acked/`, sidecar along). Both are idempotent, so replaying a batch is harmless.
 */
export const ACK_SERVER = [
  'cd "$1" || exit 3',
  'mode=$2',
  'ack_move() {',
  '  for rel in "$@"; do',
  '    s=${rel%%/*}; b=${rel##*/}',
  '    mkdir -p "$s/acked" || return 1',
  '    if [ -f "$rel" ]; then mv -f -- "$rel" "$s/acked/$b" || return 1; fi',
  '    if [ -f "$rel.sha256" ]; then mv -f -- "$rel.sha256" "$s/acked/$b.sha256" || return 1; fi',
  '  done',
  '}',
  'while :; do',
  '  set --',
  '  complete=',
  '  while IFS= read -r rel; do',
  '    if [ "$rel" = . ]; then complete=1; break; fi',
  '    set -- "$@" "$rel"',
  '  done',
  '  [ -n "$complete" ] || exit 0',
  '  if [ $# -gt 0 ]; then',
  '    if [ "$mode" = move ]; then ack_move "$@"; else rm -f -- "$@"; fi || { echo failed; exit 1; }',
  '  fi',
  '  echo ok',
  'done',
].join('\n');

/** Reports which configured sources exist: `spool <path>` / `outbox <path>` / `sqlite3` lines. */
export const PROBE_SOURCES = [
  'mode=spool',
  'for a in "$@"; do',
  '  if [ "$a" = "--outbox" ]; then mode=outbox; continue; fi',
  '  if [ "$mode" = spool ] && [ -d "$a" ] && [ ! -L "$a" ]; then printf \'spool %s\\n\' "$a"; fi',
  '  if [ "$mode" = outbox ] && [ -f "$a" ]; then printf \'outbox %s\\n\' "$a"; fi',
  'done',
  'command -v sqlite3 >/dev/null 2>&1 && echo sqlite3',
  'exit 0',
].join('\n');

export function shArgv(script: string, name: string, args: readonly string[]): string[] {
  return ['sh', '-c', script, name, ...args];
}

/** Splits a list of arguments into batches whose total length stays well below any device's ARG_MAX. */
export function argBatches(items: readonly string[], maxChars = 60_000, maxItems = 400): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const item of items) {
    if (current.length && (size + item.length + 1 > maxChars || current.length >= maxItems)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += item.length + 1;
  }
  if (current.length) batches.push(current);
  return batches;
}
