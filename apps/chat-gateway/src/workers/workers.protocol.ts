/** What the supervisor tells every worker after each change: the instance's health reflects it. */
export interface WorkersReport {
  type: 'jobsphere:workers';
  alive: number;
  expected: number;
  /** The restart budget is spent and a worker stays missing: this instance should be replaced. */
  gaveUp: boolean;
}

export function isWorkersReport(message: unknown): message is WorkersReport {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'jobsphere:workers'
  );
}
