export const CHAT_STORE = Symbol('CHAT_STORE');
