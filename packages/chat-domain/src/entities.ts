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
  /** Seq of the newest message this member has read; only moves forward. */
  lastReadSeq: number;
}

/** The newest message of a conversation as its list shows it (body cut to a preview). */
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
  lastMessage?: MessagePreview;
  /** Time of the last message, or creation: orders the conversation list. */
  lastActivityAt: Date;
  /**
   * The change cursor: raised by every change a device must see (a message appended, edited,
   * deleted, a membership or title change). A device syncs from the version it has.
   */
  version: number;
}

export interface Message {
  id: string;
  conversationId: string;
  /** Position in the conversation: strictly increasing in append order (gaps possible). */
  seq: number;
  /** The conversation's version at this message's last change. */
  version: number;
  senderId: string;
  clientMessageId: string;
  body: string;
  createdAt: Date;
}
