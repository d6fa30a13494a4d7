import { ConsoleIcon } from '../components/icons';
import { EmptyState } from '../components/empty-state';

export function ConsoleView() {
  return (
    <EmptyState title="Console" icon={<ConsoleIcon size={26} />} points={['Serial console', 'SSH terminal']}>
      Open a serial console to a device on a USB cable, or an SSH terminal over the network, right here in the app —
      useful when a device has no working network yet.
    </EmptyState>
  );
}
