import { Paper, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import type { ReactNode } from 'react';

export interface EmptyStateProps {
  title: string;
  icon: ReactNode;
  /** One or two sentences: what this view will do for the technician on site. */
  children: ReactNode;
  points?: string[];
}

export function EmptyState({ title, icon, children, points }: EmptyStateProps) {
  return (
    <Stack gap="lg" maw={760}>
      <Title order={3}>{title}</Title>
      <Paper withBorder p="xl" radius="md" data-testid="empty-state">
        <Stack align="center" gap="sm" ta="center" py="lg">
          <ThemeIcon size={52} radius="xl" variant="light">
            {icon}
          </ThemeIcon>
          <Text fw={600}>Not set up yet</Text>
          <Text c="dimmed" size="sm" maw={520}>
            {children}
          </Text>
          {points && (
            <Text size="xs" c="dimmed" mt="xs">
              {points.join('  ·  ')}
            </Text>
          )}
        </Stack>
      </Paper>
    </Stack>
  );
}
