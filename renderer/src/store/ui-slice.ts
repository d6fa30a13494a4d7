import { isErrorKind, type ErrorKind } from '../../../shared/errors';
import type { SliceCreator } from './types';
import { needsUnlock } from './vault-slice';

export const VIEW_IDS = ['devices', 'certificates', 'buffers', 'workloads', 'latency', 'console', 'settings'] as const;
export type ViewId = (typeof VIEW_IDS)[number];
export type ColorScheme = 'light' | 'dark';

export interface Notice {
  id: number;
  tone: 'error' | 'warning' | 'success';
  title: string;
  message: string;
  kind?: ErrorKind;
}

export interface UiSlice {
  view: ViewId;
  colorScheme: ColorScheme;
  notices: Notice[];
  navigate(view: ViewId): void;
  toggleColorScheme(): void;
  notify(notice: Omit<Notice, 'id'>): void;
  /** Shows a failed call the way the technician should read it: its kind and its message. */
  reportError(err: unknown, title: string): void;
  dismissNotice(id: number): void;
}

export const COLOR_SCHEME_KEY = 'outpost.color-scheme';
const MAX_NOTICES = 4;

function errorParts(err: unknown): { kind: ErrorKind; message: string } {
  if (err && typeof err === 'object') {
    const e = err as { kind?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    return { kind: isErrorKind(e.kind) ? e.kind : 'internal', message };
  }
  return { kind: 'internal', message: String(err) };
}

export const createUiSlice: SliceCreator<UiSlice> = (set, get, { storage }) => {
  let nextNoticeId = 1;
  const stored = storage.getItem(COLOR_SCHEME_KEY);

  return {
    view: 'devices',
    colorScheme: stored === 'dark' ? 'dark' : 'light',
    notices: [],
    navigate(view) {
      set({ view });
    },
    toggleColorScheme() {
      const colorScheme: ColorScheme = get().colorScheme === 'dark' ? 'light' : 'dark';
      storage.setItem(COLOR_SCHEME_KEY, colorScheme);
      set({ colorScheme });
    },
    notify(notice) {
      set({ notices: [...get().notices, { ...notice, id: nextNoticeId++ }].slice(-MAX_NOTICES) });
    },
    reportError(err, title) {
      const { kind, message } = errorParts(err);
      get().notify({ tone: 'error', title, message, kind });
      // The laptop key or a stored password was locked away: offer the unlock dialog right there.
      if (needsUnlock(err)) get().openUnlockDialog(true);
    },
    dismissNotice(id) {
      set({ notices: get().notices.filter((n) => n.id !== id) });
    },
  };
};
