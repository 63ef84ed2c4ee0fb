/** The chat use cases bound to this process's store, fan-out and clock (see chat.module). */
export const CHAT = Symbol('CHAT');
export const CLOCK = Symbol('CLOCK');
