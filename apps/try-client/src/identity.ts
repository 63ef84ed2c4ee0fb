import type { UserRole } from '@jobsphere/chat-domain';
import { rememberPerson } from './directory.js';

export interface Identity {
  userId: string;
  role: UserRole;
  token: string;
}

// sessionStorage is per window (tab): two windows can be two people.
const KEY = 'jobsphere-try:identity';
export const ROLES: readonly UserRole[] = ['candidate', 'recruiter', 'admin'];
export const USER_ID = /^[A-Za-z0-9_.:@-]{1,64}$/;

export function loadIdentity(): Identity | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Partial<Identity> | null;
    if (
      typeof value?.userId === 'string' &&
      USER_ID.test(value.userId) &&
      typeof value.token === 'string' &&
      ROLES.includes(value.role as UserRole)
    ) {
      return value as Identity;
    }
  } catch {
    // Unreadable: start over.
  }
  return undefined;
}

export function saveIdentity(identity: Identity): void {
  sessionStorage.setItem(KEY, JSON.stringify(identity));
  rememberPerson(identity.userId, identity.role);
}

export function clearIdentity(): void {
  sessionStorage.removeItem(KEY);
}
