import type {
  ChatClient,
  ConnectionStatus,
  ConversationView,
  MessageDto,
  PresenceDto,
} from '@jobsphere/chat-client';
import { useCallback, useSyncExternalStore } from 'react';
import { useChatClient } from './chat.context.js';

// Every hook reads a snapshot the client keeps: its views are immutable and replaced on change,
// so the same object comes back until something it shows changed, which is what
// useSyncExternalStore needs (no copies made here, nothing re-rendered for nothing).

const NONE: readonly never[] = Object.freeze([]);

function useClientState<T>(read: (client: ChatClient) => T): T {
  const client = useChatClient();
  const subscribe = useCallback((onChange: () => void) => client.on('change', onChange), [client]);
  const snapshot = () => read(client);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/** The conversation list, most recent activity first (message requests received are apart). */
export function useConversations(): readonly ConversationView[] {
  return useClientState((client) => client.conversations());
}

/** Message requests this user received and has not answered. */
export function useRequests(): readonly ConversationView[] {
  return useClientState((client) => client.requests());
}

/** One conversation as held (undefined until it is), for its title, members and flags. */
export function useConversation(conversationId: string | undefined): ConversationView | undefined {
  return useClientState((client) =>
    conversationId === undefined ? undefined : client.conversation(conversationId),
  );
}

/**
 * The messages of a conversation, ascending by seq, each once, in their newest state. Call
 * `client.open(id)` to load its newest page and `client.loadOlder(id)` to page back; messages
 * still in the outbox are `useConversation(id)?.pending`.
 */
export function useMessages(conversationId: string | undefined): readonly MessageDto[] {
  return useClientState((client) =>
    conversationId === undefined ? NONE : (client.conversation(conversationId)?.messages ?? NONE),
  );
}

/** Unread messages: over the conversation list, or in one conversation. */
export function useUnread(conversationId?: string): number {
  return useClientState((client) =>
    conversationId === undefined
      ? client.totalUnread
      : (client.conversation(conversationId)?.unreadCount ?? 0),
  );
}

/**
 * Whether someone is online (and when they were last seen). Known only for people this user
 * shares a conversation with (and no request is pending): undefined otherwise.
 */
export function usePresence(userId: string | undefined): PresenceDto | undefined {
  return useClientState((client) => (userId === undefined ? undefined : client.presence(userId)));
}

/** The other members typing in a conversation now (they expire by themselves). */
export function useTyping(conversationId: string | undefined): readonly string[] {
  return useClientState((client) =>
    conversationId === undefined ? NONE : (client.conversation(conversationId)?.typing ?? NONE),
  );
}

/** The connection: state (connecting, connected, reconnecting, failed, …), error, next retry. */
export function useConnectionStatus(): ConnectionStatus {
  return useClientState((client) => client.status);
}
