import { type ActionCard } from './actions.js';

/** Roles that the JobSphere identity service puts in the access token. */
export const USER_ROLES = ['candidate', 'recruiter', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface Principal {
  userId: string;
  role: UserRole;
  /**
   * The company (organisation) the person acts for, from the identity service's token
   * (`JWT_COMPANY_CLAIM`, Auth0 Organizations' `org_id` by default); absent when the token
   * names none. Only a signed token says it: never a request body.
   */
  companyId?: string;
}

export type ConversationKind = 'direct' | 'group';
/** A member's role inside one conversation (independent of the platform role). */
export type MemberRole = 'owner' | 'member';

export interface JobContext {
  jobId?: string;
  applicationId?: string;
}

/**
 * Being put in a group by someone who is not your contact is an invitation until you accept:
 * until then nothing of the group reaches you (no message, typing or read position), nothing of
 * yours reaches it, and no contact is made. Declined, the group leaves your lists; you can still
 * accept it later, or leave it.
 */
export interface MemberInvitation {
  from: string;
  state: 'pending' | 'declined';
}

export interface Member {
  userId: string;
  role: MemberRole;
  joinedAt: Date;
  /** Seq of the newest message this member has read; only moves forward. */
  lastReadSeq: number;
  /**
   * Seq of the newest message a device of this member holds ("delivered"); only moves forward.
   * Reading implies it: what a member sees as delivered is the higher of the two.
   */
  lastDeliveredSeq?: number;
  /** Set while this member has not accepted being added (see MemberInvitation). */
  invitation?: MemberInvitation;
  /** Seqs of the latest messages that mentioned this member, oldest first (capped: mentions.rules.ts). */
  mentionSeqs?: number[];
  /** How this member organised the conversation for themself; nobody else sees it. */
  organisation?: MemberOrganisation;
}

/**
 * A member's own organisation of a conversation. Muted: no offline notification, left out of the
 * unread total, still listed. Pinned: listed first (capped). Archived: out of the inbox until a
 * message newer than `archivedSeq` arrives (kept archived while muted). Marked unread: shown as
 * unread until the member reads it.
 */
export interface MemberOrganisation {
  muted?: boolean;
  pinnedAt?: Date;
  archivedSeq?: number;
  markedUnread?: boolean;
}

/** The newest message of a conversation as its list shows it (body cut to a preview). */
export interface MessagePreview {
  id: string;
  seq: number;
  senderId: string;
  body: string;
  createdAt: Date;
  /** The newest message was deleted: shown as such, body empty. */
  deleted?: boolean;
}

/**
 * A direct conversation opened with someone who is not a contact yet: a request for the
 * recipient until they reply or accept. Until then the opener may send a few messages, and
 * the recipient's presence, typing and read receipts are not shared.
 */
export interface MessageRequest {
  from: string;
  to: string;
  state: 'pending' | 'declined';
  /** Messages (and edits) the opener may still send while pending. */
  remaining?: number;
}

export interface Conversation extends JobContext {
  id: string;
  kind: ConversationKind;
  title?: string;
  members: Member[];
  /** Set while a direct conversation is a request (pending) or was declined by its recipient. */
  request?: MessageRequest;
  /** A direct conversation between two people one of whom blocked the other: nobody may send. */
  blocked: boolean;
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
  /** Closed by the platform (e.g. the job was filled): shown apart by clients. */
  archived?: boolean;
  /** The version of the last change to the conversation itself (title, members, archived). */
  metaVersion?: number;
  metaChangedAt?: Date;
}

/** A message from a person, or one the platform posts (system, shown apart). */
export type MessageKind = 'user' | 'system';

/** A file a message carries (uploaded to storage first, then referenced). */
export interface MessageAttachment {
  id: string;
  fileName: string;
  contentType: string;
  /** Bytes. */
  size: number;
}

/** Why a message is listed for moderators: the built-in policy's or the platform hook's reason. */
export interface MessageFlag {
  source: 'policy' | 'hook';
  /** The policy's `scam:<signal>`, or the reason code the platform's hook gave. */
  reason: string;
  at: Date;
}

/**
 * What the content policy and the pre-send hook did to a message, kept with it: the sender
 * sees `body` (what they sent), the other members `masked.body` when set, with the notices and
 * the warning; moderators see all of it. Decided when sent (or edited), so what each party saw
 * stays recorded.
 */
export interface MessageSafety {
  /** What the other members see instead of the body (contact details or links hidden). */
  masked?: { body: string; notices: ('contact-hidden' | 'link-hidden')[] };
  /** Signals of recruitment fraud, shown to the other members next to the message. */
  warning?: ('off-platform' | 'fee' | 'gift-card' | 'crypto' | 'bank-details')[];
  /** For the moderation list. */
  flags?: MessageFlag[];
  /** What the sender wrote when the platform's hook replaced it (moderators only). */
  replaced?: string;
}

export interface Message {
  id: string;
  conversationId: string;
  kind: MessageKind;
  /** Position in the conversation: strictly increasing in append order (gaps possible). */
  seq: number;
  /** The conversation's version at this message's last change. */
  version: number;
  senderId: string;
  clientMessageId: string;
  /** Empty once deleted: the body is removed from storage, the message keeps its place. */
  body: string;
  attachments?: MessageAttachment[];
  createdAt: Date;
  editedAt?: Date;
  deletedAt?: Date;
  /** Who deleted it: the sender, or an admin. */
  deletedBy?: string;
  /**
   * Sent (or last edited) while its sender was shadow-banned: shown to the sender only, never
   * delivered, synced, previewed, counted or announced to anyone else.
   */
  shadow?: boolean;
  /** Buttons the platform put on it (system messages only), with the answers so far. */
  action?: ActionCard;
  /** Set when the content policy or the pre-send hook acted on it (see MessageSafety). */
  safety?: MessageSafety;
  /** The id of the message of the same conversation this one replies to (replies.rules.ts). */
  replyTo?: string;
  /** Members of the group this message mentions, as user ids (mentions.rules.ts). */
  mentions?: string[];
  /** Who reacted with what, one entry per (person, emoji) (reactions.rules.ts). */
  reactions?: Reaction[];
}

export interface Reaction {
  emoji: string;
  userId: string;
}

/** What a moderator looks at: a message or a conversation someone reported. */
export type ReportReason = 'spam' | 'harassment' | 'scam' | 'inappropriate' | 'other';
export type ReportResolution = 'dismissed' | 'message_deleted';

/** Where a report is: open → dismissed | actioned; dismissed → actioned; actioned is final. */
export type ReportStatus = 'open' | 'dismissed' | 'actioned';

/** One step of a report, kept on it for good: the audit trail of moderation. */
export interface ReportTransition {
  from: ReportStatus;
  to: ReportStatus;
  resolution: ReportResolution;
  by: string;
  at: Date;
}

export interface Report {
  id: string;
  reporterId: string;
  /** Who the report is about: the message's sender, or the other side of the conversation. */
  reportedUserId: string;
  conversationId: string;
  messageId?: string;
  reason: ReportReason;
  note?: string;
  /** The message as it was when reported (it may be edited or deleted afterwards). */
  snapshot?: { senderId: string; body: string; createdAt: Date };
  createdAt: Date;
  status: ReportStatus;
  /** The latest step's. */
  resolution?: ReportResolution;
  resolvedBy?: string;
  resolvedAt?: Date;
  /** Every step so far, oldest first. */
  history: ReportTransition[];
}
