/** The server API's use cases bound to this process's (event-recording) store. */
export const PLATFORM = Symbol('PLATFORM');
