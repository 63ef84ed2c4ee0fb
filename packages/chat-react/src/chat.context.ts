import type { ChatClient } from '@jobsphere/chat-client';
import { createContext, createElement, useContext, type ReactNode } from 'react';

const ChatContext = createContext<ChatClient | undefined>(undefined);

/** Gives the hooks below it one client: create it once (outside render) and pass it here. */
export function ChatProvider(props: { client: ChatClient; children?: ReactNode }) {
  return createElement(ChatContext.Provider, { value: props.client }, props.children);
}

/** The client of the nearest ChatProvider; throws outside one (a bug, said plainly). */
export function useChatClient(): ChatClient {
  const client = useContext(ChatContext);
  if (!client) throw new Error('useChatClient: wrap the component in <ChatProvider client={…}>');
  return client;
}
