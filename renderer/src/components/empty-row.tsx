import { Table, Text, type MantineSpacing } from '@mantine/core';
import type { ReactNode } from 'react';

/** The row a table shows instead of rows when it has none: one dimmed, centred sentence across every column. */
export function EmptyRow({ colSpan, py = 'md', testId, children }: { colSpan: number; py?: MantineSpacing; testId?: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Td colSpan={colSpan}>
        <Text size="sm" c="dimmed" ta="center" py={py} data-testid={testId}>
          {children}
        </Text>
      </Table.Td>
    </Table.Tr>
  );
}
