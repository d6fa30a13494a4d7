import { createTheme } from '@mantine/core';

// System fonts only: nothing is fetched, and the app looks native on each OS.
const systemSans =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif';
const systemMono = 'ui-monospace, "SFMono-Regular", "Cascadia Mono", "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace';

export const theme = createTheme({
  primaryColor: 'teal',
  fontFamily: systemSans,
  fontFamilyMonospace: systemMono,
  headings: { fontFamily: systemSans, fontWeight: '600' },
  defaultRadius: 'sm',
  fontSizes: { md: '14px' },
});
