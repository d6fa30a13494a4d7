import { BufferIcon } from '../components/icons';
import { EmptyState } from '../components/empty-state';

export function BuffersView() {
  return (
    <EmptyState title="Buffers" icon={<BufferIcon size={26} />} points={['Drain spools', 'Verify every record', 'Forward when online']}>
      Drain the data each device has spooled while offline onto this laptop with zero loss, checked record by record,
      and forward it upstream automatically once the laptop is back online.
    </EmptyState>
  );
}
