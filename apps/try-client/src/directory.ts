import type { UserRole } from '@jobsphere/chat-domain';

// The gateway knows people only by id. JobSphere's front-end resolves names, roles and jobs
// from its own services; this page, a development tool, has demo people and jobs, and learns
// the role of anyone who signs in on this browser (shared between its windows).

export interface Person {
  userId: string;
  name: string;
  role: UserRole | undefined;
  headline?: string;
}

export interface Job {
  jobId: string;
  title: string;
  company: string;
}

export const DEMO_PEOPLE: readonly Person[] = [
  { userId: 'ana', name: 'Ana Souza', role: 'candidate', headline: 'Frontend developer' },
  { userId: 'ravi', name: 'Ravi Mehta', role: 'recruiter', headline: 'Talent partner, Northwind' },
  { userId: 'mia', name: 'Mia Chen', role: 'recruiter', headline: 'Hiring manager, Northwind' },
  { userId: 'leo', name: 'Leo Martin', role: 'candidate', headline: 'Data analyst' },
];

export const DEMO_JOBS: readonly Job[] = [
  { jobId: 'job-fe-1042', title: 'Senior Frontend Engineer', company: 'Northwind' },
  { jobId: 'job-da-0311', title: 'Data Analyst', company: 'Northwind' },
];

const SEEN_KEY = 'jobsphere-try:people';
const ROLE_TEXT: Record<UserRole, string> = {
  candidate: 'Candidate',
  recruiter: 'Recruiter',
  admin: 'Admin',
};

function seen(): Record<string, UserRole> {
  try {
    const value = JSON.parse(localStorage.getItem(SEEN_KEY) ?? '{}') as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, UserRole>) : {};
  } catch {
    return {};
  }
}

/** Remembers who signed in on this browser, so the other windows can show their role. */
export function rememberPerson(userId: string, role: UserRole): void {
  try {
    const all = seen();
    all[userId] = role;
    localStorage.setItem(SEEN_KEY, JSON.stringify(all));
  } catch {
    // Storage full or blocked: names fall back to ids.
  }
}

export function person(userId: string): Person {
  const demo = DEMO_PEOPLE.find((p) => p.userId === userId);
  if (demo) return demo;
  return { userId, name: userId, role: seen()[userId] };
}

export function roleText(role: UserRole | undefined): string | undefined {
  return role && ROLE_TEXT[role];
}

/** "Ravi Mehta (Recruiter)", or the bare id for someone unknown. */
export function nameWithRole(userId: string): string {
  const p = person(userId);
  const role = roleText(p.role);
  return role ? `${p.name} (${role})` : p.name;
}

/** "Senior Frontend Engineer at Northwind", or the job id for a job this page does not know. */
export function jobText(jobId: string | undefined): string | undefined {
  if (!jobId) return undefined;
  const job = DEMO_JOBS.find((j) => j.jobId === jobId);
  return job ? `${job.title} at ${job.company}` : `job ${jobId}`;
}
