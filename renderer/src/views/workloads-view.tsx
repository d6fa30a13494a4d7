import { WorkloadIcon } from '../components/icons';
import { EmptyState } from '../components/empty-state';

export function WorkloadsView() {
  return (
    <EmptyState title="Workloads" icon={<WorkloadIcon size={26} />} points={['Offline image cache', 'Delta deploy', 'Health-gated rollout', 'Diagnostics']}>
      Carry container images in an offline cache and ship only the layers a device is missing, roll out one device at a
      time and roll back when health checks fail, and collect diagnostics from misbehaving containers.
    </EmptyState>
  );
}
