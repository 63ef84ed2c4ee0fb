import { Injectable } from '@nestjs/common';

/** Whether this instance is shutting down: readiness fails and new sockets are refused. */
@Injectable()
export class LifecycleState {
  private drainingSince: number | undefined;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }
}
