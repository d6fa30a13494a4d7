import { LatencyIcon } from '../components/icons';
import { EmptyState } from '../components/empty-state';

export function LatencyView() {
  return (
    <EmptyState title="Latency" icon={<LatencyIcon size={26} />} points={['Live plots', 'Per device', 'Percentiles']}>
      Watch live latency plots for each device, to spot a flaky link, a saturated switch or an overloaded gateway while
      you are still on site.
    </EmptyState>
  );
}
