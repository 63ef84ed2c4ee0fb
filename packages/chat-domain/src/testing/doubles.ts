import {
  type FanOut,
  type PreSendDraft,
  type PreSendHook,
  type PreSendVerdict,
  type ServerToClientEvents,
} from '../index.js';

/** Records what would have been fanned out, instead of a Socket.IO server. */
export class RecordingFanOut implements FanOut {
  readonly sent: { users: string[]; except?: string; event: string; payload: unknown }[] = [];
  toUsers<E extends keyof ServerToClientEvents>(
    users: readonly string[],
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
    options: { exceptSocketId?: string } = {},
  ) {
    this.sent.push({
      users: [...users],
      ...(options.exceptSocketId && { except: options.exceptSocketId }),
      event,
      payload,
    });
  }
  of(event: string) {
    return this.sent.filter((e) => e.event === event);
  }
}

/** Time moves only when a test says so. */
export class FakeClock {
  constructor(public ms = Date.UTC(2026, 5, 1, 9)) {}
  now = () => new Date(this.ms);
  advance(ms: number) {
    this.ms += ms;
  }
}

/** A pre-send hook that answers what the test says, and remembers what it was asked. */
export class ScriptedHook implements PreSendHook {
  readonly asked: PreSendDraft[] = [];
  constructor(public answer: (draft: PreSendDraft) => PreSendVerdict) {}
  check(draft: PreSendDraft): Promise<PreSendVerdict> {
    this.asked.push(draft);
    return Promise.resolve(this.answer(draft));
  }
}
