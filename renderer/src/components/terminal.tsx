import '@xterm/xterm/css/xterm.css';
import { Badge, Group, Paper, Text } from '@mantine/core';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal as XTerm } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';
import type { Api } from '../../../shared/contract';
import { TerminalSession, type TerminalTarget } from './terminal-session';

export interface TerminalProps {
  api: Api;
  target: TerminalTarget;
  title: string;
  /** Called with a failed open, e.g. to show it as a notice with its kind. */
  onError?(err: unknown): void;
  height?: number;
  /** Told the session id once open (and null when it closes), for side channels such as `serial:signal`. */
  onSession?(sessionId: string | null): void;
}

type Status = { state: 'connecting' } | { state: 'open' } | { state: 'exited'; code: number | null; message?: string } | { state: 'failed'; message: string };

const THEME = { background: '#101418', foreground: '#d8dee4', cursor: '#8fd3ff', selectionBackground: '#33506b' };

/** An xterm.js terminal on a `sessions:*` byte stream (a shell in a container, or on the device over SSH). */
export function Terminal({ api, target, title, onError, onSession, height = 420 }: TerminalProps) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>({ state: 'connecting' });
  const targetKey = JSON.stringify(target);

  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    const term = new XTerm({ fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace', fontSize: 13, cursorBlink: true, scrollback: 5000, theme: THEME });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    fit.fit();
    setStatus({ state: 'connecting' });

    const session = new TerminalSession(api, {
      write: (bytes, done) => term.write(bytes, done),
      exited: (code, error) => {
        setStatus({ state: 'exited', code, message: error?.message });
        term.write(`\r\n\x1b[2m[session ended${code === null ? '' : `, exit code ${code}`}]\x1b[0m\r\n`);
      },
    });
    const typed = term.onData((text) => void session.input(text)?.catch(() => undefined));
    const resized = term.onResize(({ cols, rows }) => void session.resize(cols, rows)?.catch(() => undefined));
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(element);

    session.open(JSON.parse(targetKey) as TerminalTarget, { cols: term.cols, rows: term.rows }).then(
      (sessionId) => {
        setStatus({ state: 'open' });
        onSession?.(sessionId);
        term.focus();
      },
      (err: unknown) => {
        setStatus({ state: 'failed', message: err instanceof Error ? err.message : String(err) });
        onError?.(err);
      },
    );

    return () => {
      observer.disconnect();
      typed.dispose();
      resized.dispose();
      onSession?.(null);
      void session.close();
      term.dispose();
    };
    // onError and onSession are deliberately left out: a new callback identity must not reopen the session.
  }, [api, targetKey]);

  return (
    <Paper withBorder radius="md" p={0} style={{ overflow: 'hidden' }} data-testid="terminal" data-state={status.state}>
      <Group justify="space-between" px="sm" py={6} bg="dark.7">
        <Text size="xs" c="gray.4" ff="monospace">
          {title}
        </Text>
        <StatusBadge status={status} />
      </Group>
      <div ref={host} className="outpost-terminal" style={{ height, padding: 6, background: THEME.background }} data-testid="terminal-screen" />
    </Paper>
  );
}

function StatusBadge({ status }: { status: Status }) {
  if (status.state === 'open') return <Badge size="xs" color="teal" variant="light">connected</Badge>;
  if (status.state === 'connecting') return <Badge size="xs" color="gray" variant="light">connecting…</Badge>;
  if (status.state === 'failed')
    return (
      <Badge size="xs" color="red" variant="light" title={status.message}>
        failed
      </Badge>
    );
  return (
    <Badge size="xs" color="gray" variant="light" title={status.message}>
      ended{status.code === null ? '' : ` · ${status.code}`}
    </Badge>
  );
}
