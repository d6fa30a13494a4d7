/**
 * Small POSIX-sh programs Outpost runs on devices (busybox ash and dash both run them). Each is a constant passed
 * as `sh -c SCRIPT NAME ARG...`: spool names travel only as quoted argv words or as stdin lines the script reads
 * as data, never spliced into script text, and the laptop has validated every name it sends (see spool-names.ts).
 */

const ROOT_CHECK = '{ [ -d "$r" ] && [ ! -L "$r" ]; } || { echo "no-spool" >&2; exit 3; }';

/**
 * Lists a spool root in ONE process tree, then `cd`s into it:
 * 1. regular files directly in `<root>/<stream>/ready/`, NUL-terminated, then an empty record;
 * 2. anything else there (symlinks, FIFOs, directories), NUL-terminated, then an empty record;
 * 3. `size mtime ./<stream>/ready/<name>` lines from one `stat` per batch of `find -exec {} +`, only for names made
 *    of `A-Z a-z 0-9 . _ -` (stream and file), so no name can forge a line; then a NUL. The laptop still validates
 *    every name from part 1 with its own, stricter rules and ignores sizes of names it refused.
 * `find -P` never follows a symlinked stream or ready directory; a symlinked root counts as absent (exit 3).
 */
const LISTING = [
  'find "$r" -mindepth 3 -maxdepth 3 -path "$r/*/ready/*" -type f -print0',
  "printf '\\0'",
  'find "$r" -mindepth 3 -maxdepth 3 -path "$r/*/ready/*" ! -type f -print0',
  "printf '\\0'",
  'cd "$r" || exit 3',
  "find . -mindepth 3 -maxdepth 3 -path './*/ready/*' -type f ! -name '*[!A-Za-z0-9._-]*' ! -path './*[!A-Za-z0-9._-]*/ready/*' -exec stat -c '%s %Y %n' {} +",
  "printf '\\0'",
];

/** `buffers scan`: the listing alone. */
export const SCAN_SPOOL = ['r=$1', ROOT_CHECK, ...LISTING].join('\n');

/**
 * A whole flush of one spool root in ONE exec: each exec costs ~100 ms of session set-up in the lab (sshd handles
 * them one at a time, stalling the connection), more on a loaded gateway. After the listing (stdout), it reads
 * from stdin lists of names, each closed by a line `.`. Names come in a compact form (see nameLines in
 * flush-session.ts): a line `@<stream>` sets the stream, then one line per segment of it, `<segment>`, or in the
 * transfer list `+<segment>` for "its `.sha256` sidecar, then it". The shell reads stdin one byte at a time (the
 * only way not to swallow what follows on a pipe), which made the 106 KB of full paths for 1,000 segments with
 * sidecars cost the device ~0.06 cpu-s; these lists are a third of that. Arguments: root, ack mode, then outbox
 * files to probe (answered on stderr before anything else):
 * 1. the files to send: streamed by `xargs cat` as they are read, then `\nOUTPOST-END <status>\n` (stdout);
 * 2. the segments without a producer checksum: `sha256sum` lines, then `OUTPOST-HASHED` (stderr);
 * 3. any number of acknowledgement batches, each applied only once its closing `.` arrived (a batch cut short by
 *    a dying laptop is never applied: `read` fails at EOF first) and answered `OUTPOST-ACK ok` (stderr).
 *    `$2` is `delete` (rm -f each segment and its sidecar, if any) or `move` (to `<stream>/acked/`, sidecar along);
 *    both are idempotent, so replaying a batch is harmless.
 * The acknowledgement loop runs while `cat` still streams: the left side of the pipe hands cat its names, closes
 * the pipe, then keeps reading stdin. Validated names hold no blanks, quotes or backslashes, so xargs takes each
 * line verbatim; they start with a letter or digit, never `@`, `+` or `.`. A name before any `@` line is ignored.
 */
export const FLUSH_SESSION = [
  'r=$1',
  'mode=$2',
  'shift 2',
  // The outbox probe rides along (saves an exec): PROBE_SOURCES' lines for the outbox files given, on stderr.
  'for a in "$@"; do if [ -f "$a" ]; then printf \'OUTPOST-PROBE outbox %s\\n\' "$a" >&2; fi; done',
  'command -v sqlite3 >/dev/null 2>&1 && echo "OUTPOST-PROBE sqlite3" >&2',
  'echo "OUTPOST-PROBE end" >&2',
  ROOT_CHECK,
  ...LISTING,
  'ack_move() {',
  '  for rel in "$@"; do',
  '    s=${rel%%/*}; b=${rel##*/}',
  '    mkdir -p "$s/acked" || return 1',
  '    if [ -f "$rel" ]; then mv -f -- "$rel" "$s/acked/$b" || return 1; fi',
  '    if [ -f "$rel.sha256" ]; then mv -f -- "$rel.sha256" "$s/acked/$b.sha256" || return 1; fi',
  '  done',
  '}',
  // The laptop's request starts with the transfer's encoding, `plain` or `gzip` (compressed here, see compression.ts),
  // and the number of segments it wants checksums of.
  'read -r enc nhash',
  'session() {',
  '  d=',
  '  while IFS= read -r l && [ "$l" != . ]; do',
  '    case $l in',
  '      @*) d=${l#@}/ready ;;',
  '      +*) [ -z "$d" ] || printf \'%s\\n%s\\n\' "$d/${l#+}.sha256" "$d/${l#+}" ;;',
  '      *) [ -z "$d" ] || printf \'%s\\n\' "$d/$l" ;;',
  '    esac',
  '  done',
  '  exec >/dev/null',
  '  d=',
  // No sha256sum at all when no segment lacks a sidecar (xargs would run it once anyway, on empty input).
  '  if [ "$nhash" = 0 ]; then',
  '    while IFS= read -r l && [ "$l" != . ]; do :; done',
  '  else',
  '    while IFS= read -r l && [ "$l" != . ]; do',
  '      case $l in @*) d=${l#@}/ready ;; *) [ -z "$d" ] || printf \'%s\\n\' "$d/$l" ;; esac',
  '    done | xargs sha256sum -- >&2',
  '  fi',
  '  echo OUTPOST-HASHED >&2',
  // A batch's names gather in a string (`set -- "$@" x` copies every argument at each name: 0.05 cpu-s for 1,000
  // segments in batches of 256), split back into arguments without globbing: validated names hold no blanks.
  '  set -f',
  '  while :; do',
  '    list=',
  '    complete=',
  '    d=',
  '    while IFS= read -r l; do',
  '      case $l in',
  '        .) complete=1; break ;;',
  '        @*) d=${l#@}/ready ;;',
  '        *) if [ -z "$d" ]; then :; elif [ "$mode" = move ]; then list="$list $d/$l"; else list="$list $d/$l $d/$l.sha256"; fi ;;',
  '      esac',
  '    done',
  '    [ -n "$complete" ] || exit 0',
  '    set -- $list',
  '    if [ $# -gt 0 ]; then',
  '      if [ "$mode" = move ]; then ack_move "$@"; else rm -f -- "$@"; fi || { echo "OUTPOST-ACK failed" >&2; exit 1; }',
  '    fi',
  '    echo "OUTPOST-ACK ok" >&2',
  '  done',
  '}',
  'send() { xargs cat --; printf \'\\nOUTPOST-END %s\\n\' "$?"; }',
  'if [ "$enc" = gzip ]; then session | { send | gzip -1 -c; }; else session | send; fi',
].join('\n');

/** Reads many small files given as argv (sidecars of segments the laptop may already hold). */
export const CAT_FILES = ['cd "$1" || exit 3', 'shift', 'cat -- "$@"', "printf '\\nOUTPOST-END %s\\n' \"$?\""].join('\n');

/** sha256 of validated relative paths, `hex  rel` per line, in one process (run beside the transfer). */
export const HASH_FILES = ['cd "$1" || exit 3', 'shift', 'sha256sum -- "$@" 2>/dev/null', 'exit 0'].join('\n');

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
