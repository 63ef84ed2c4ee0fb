import { MetricsService } from './metrics.service.js';

describe('MetricsService', () => {
  it('keeps the useful default metrics, drops the per-scrape handle walks, reads open fds', async () => {
    const { body } = await new MetricsService().render();
    const names = new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const kept of [
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'process_cpu_seconds_total',
      'chat_connected_sockets',
    ])
      expect(names).toContain(kept);
    for (const dropped of [
      'nodejs_active_handles',
      'nodejs_active_resources',
      'nodejs_active_requests',
    ])
      expect(names).not.toContain(dropped);
    const fds = Number(/^process_open_fds (\d+)$/m.exec(body)?.[1]);
    expect(fds).toBeGreaterThan(2); // at least stdin, stdout and stderr
  });
});
