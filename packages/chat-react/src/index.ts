// @jobsphere/chat-react: React hooks over @jobsphere/chat-client.
export { ChatProvider, useChatClient } from './chat.context.js';
export {
  useConnectionStatus,
  useConversation,
  useConversations,
  useMessages,
  usePresence,
  useRequests,
  useTyping,
  useUnread,
} from './chat.hooks.js';
