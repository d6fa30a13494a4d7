import { Badge, Group, Notification, Text } from '@mantine/core';
import { useEffect } from 'react';
import type { Notice } from '../store';
import { useOutpost } from '../store/context';

// Successes fade on their own; errors stay until the technician has read them.
const SUCCESS_VISIBLE_MS = 4000;

export function Notices() {
  const notices = useOutpost((s) => s.notices);
  return (
    <div className="outpost-notices" aria-live="polite">
      {notices.map((n) => (
        <NoticeCard key={n.id} notice={n} />
      ))}
    </div>
  );
}

function NoticeCard({ notice }: { notice: Notice }) {
  const dismiss = useOutpost((s) => s.dismissNotice);
  useEffect(() => {
    if (notice.tone !== 'success') return undefined;
    const timer = setTimeout(() => dismiss(notice.id), SUCCESS_VISIBLE_MS);
    return () => clearTimeout(timer);
  }, [notice, dismiss]);
  return (
    <Notification
      color={notice.tone === 'error' ? 'red' : notice.tone === 'warning' ? 'yellow' : 'teal'}
      withBorder
      onClose={() => dismiss(notice.id)}
      data-testid={`notice-${notice.tone}`}
      data-kind={notice.kind}
      title={
        <Group gap={8} justify="space-between" wrap="nowrap">
          <span>{notice.title}</span>
          {notice.kind && (
            <Badge size="xs" variant="light" color="red" data-testid="notice-kind">
              {notice.kind}
            </Badge>
          )}
        </Group>
      }
    >
      <Text size="sm">{notice.message}</Text>
    </Notification>
  );
}
