/** Roles that the JobSphere identity service puts in the access token. */
export const USER_ROLES = ['candidate', 'recruiter', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface Principal {
  userId: string;
  role: UserRole;
}

export type ConversationKind = 'direct' | 'group';
/** A member's role inside one conversation (independent of the platform role). */
export type MemberRole = 'owner' | 'member';

export interface JobContext {
  jobId?: string;
  applicationId?: string;
}

export interface Member {
  userId: string;
  role: MemberRole;
  joinedAt: Date;
}

export interface MessagePreview {
  id: string;
  seq: number;
  senderId: string;
  body: string;
  createdAt: Date;
}

export interface Conversation extends JobContext {
  id: string;
  kind: ConversationKind;
  title?: string;
  members: Member[];
  createdBy: string;
  createdAt: Date;
  /** Last sequence number allocated; messages carry strictly increasing seqs (gaps allowed). */
  lastSeq: number;
  lastMessage?: MessagePreview;
  /** Time of the last message, or creation: orders the conversation list. */
  lastActivityAt: Date;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  clientMessageId: string;
  body: string;
  createdAt: Date;
}

export interface ReadState {
  conversationId: string;
  userId: string;
  lastReadSeq: number;
}
