import { LinkifyIt } from 'linkify-it';
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import {
  matchesOf,
  normalizeForScan,
  originalRange,
  type NormalizedText,
} from './content-normalize.js';

/**
 * The built-in content policy (no external call): contact details, links and the signals of
 * recruitment fraud, found in a message body after its evasions are undone
 * (`normalizeForScan`), and acted on according to the conversation's state (settings).
 */

/** What was found: contact details (email, phone, messenger handle) or a link. */
export type ContentFindingKind = 'email' | 'phone' | 'handle' | 'link' | 'shortener';
/** Signals of recruitment fraud. */
export const SCAM_SIGNALS = ['off-platform', 'fee', 'gift-card', 'crypto', 'bank-details'] as const;
export type ScamSignal = (typeof SCAM_SIGNALS)[number];

export interface ContentFinding {
  kind: ContentFindingKind;
  /** Range in the original text (UTF-16 units). */
  start: number;
  end: number;
  /** A link's host. */
  host?: string;
}

export interface ContentScan {
  findings: ContentFinding[];
  scam: ScamSignal[];
}

/** Known link shorteners: what they hide is named as such. */
export const SHORTENERS = [
  'bit.ly',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'ow.ly',
  'is.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
  'shorturl.at',
  'rb.gy',
  't.ly',
  'tiny.cc',
  's.id',
  'lnkd.in',
  'shorte.st',
  'v.gd',
  'bl.ink',
  'short.io',
  'tr.im',
  'x.co',
  'qr.net',
  'surl.li',
  'clck.ru',
];

// Technical names that read as domains ("ASP.NET", "Node.js" is not one) and are not links.
const NOT_LINKS = new Set(['asp.net', 'vb.net', 'ado.net', 'dot.net', 'socket.io', 'd3.js']);

// linkify-it knows the classic and two-letter TLDs; the new ones scams favour are added.
const linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: true, fuzzyIP: false }).tlds(
  [
    'xyz',
    'app',
    'dev',
    'online',
    'site',
    'top',
    'club',
    'store',
    'tech',
    'live',
    'link',
    'click',
    'work',
    'jobs',
    'email',
    'careers',
  ],
  true,
);

const LINK_LIKE = /\.\p{L}|:\/\//u;

// Dates and date or time ranges, blanked (same length) before phone numbers are looked for.
const DATES_AND_TIMES =
  /(?<![\d+][./-]?)(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}[.:]\d{2}\s*-\s*\d{1,2}[.:]\d{2}|\d{1,2}\.\d{1,2}\s*-\s*\d{1,2}\.\d{1,2})(?![./-]?\d)/g;

const TLD =
  '(?:com|net|org|io|co|me|info|biz|de|fr|uk|es|it|nl|ru|in|us|ca|au|ch|be|pl|pt|br|mx|xyz|app|dev|email|online|site)';
const AT = String.raw`(?:\s*@\s*|\s*[([{<]\s*at\s*[)\]}>]\s*|\s+at\s+|\s*\(a\)\s*)`;
const DOT = String.raw`(?:\s*\.\s*|\s*[([{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+)`;
const EMAIL = new RegExp(
  String.raw`(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]{0,63}${AT}[a-z0-9-]{1,63}(?:${DOT}[a-z0-9-]{1,63}){0,3}${DOT}${TLD}(?![a-z0-9])`,
  'g',
);
const MAIL_PROVIDERS =
  '(?:gmail|googlemail|yahoo|hotmail|outlook|live|protonmail|proton|icloud|gmx|aol|yandex|mail)';
const EMAIL_AT_PROVIDER = new RegExp(
  String.raw`(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]{2,63}${AT}${MAIL_PROVIDERS}(?![a-z0-9])`,
  'g',
);
const MESSENGERS = String.raw`(?:whats\s?app|telegram|signal|wechat|viber|skype|discord|instagram|snapchat|kik|line)`;
const HANDLE = new RegExp(
  String.raw`${MESSENGERS}\s*(?:id|handle|username|user|name|number|nr)?\s*(?:is|:|-|=)?\s*@[a-z0-9_.]{3,32}|(?<![a-z0-9.])@[a-z0-9_.]{3,32}(?=\s+(?:on|at|via|in)\s+${MESSENGERS})|(?:whats\s?app|telegram|wechat|viber|skype|discord|kik|snapchat|instagram)\s*(?:id|handle|username|user)?\s*:\s*[a-z0-9_.]{4,32}`,
  'g',
);
// Digits with the separators a phone number is written with, up to three between two digits.
const DIGIT_RUN = /\+?\d(?:[\s\-.()_*~]{0,3}\d)+/g;

const SCAM_PATTERNS: Record<ScamSignal, RegExp> = {
  'off-platform': new RegExp(
    String.raw`\b(?:whats\s?app|telegram|wechat|viber|kik)\b|\b(?:on|via|over|download|use|add me on)\s+signal\b|\bsignal\s+(?:app|me|messenger)\b|\b(?:wa|t)\.me\/|\b(?:off|outside)\s+(?:this|the)\s+(?:platform|app|site)\b`,
  ),
  fee: /\b(?:fee|fees|deposit|pay|paid|payment|charge|purchase|buy)\b[^.!?\n]{0,40}\b(?:training|onboarding|registration|application|processing|equipment|starter|kit|background check|certification|visa|laptop|software|materials)\b|\b(?:training|onboarding|registration|application|processing|equipment|background check|certification|visa)\s+(?:fee|fees|deposit|cost)\b|\brefundable\b/,
  'gift-card':
    /\b(?:gift\s?cards?|itunes\s+cards?|google\s+play\s+cards?|steam\s+cards?|amazon\s+cards?|apple\s+cards?|vouchers?\s+codes?)\b/,
  crypto:
    /\b(?:bitcoin|btc|usdt|tether|ethereum|eth|crypto(?:currency)?|wallet\s+address|binance|coinbase|cash\s?app|zelle|western\s+union|moneygram)\b/,
  'bank-details':
    /\b(?:send|share|provide|give|need|confirm|text|email|forward)\b[^.!?\n]{0,40}\b(?:bank\s+(?:details|account|info|login|card)|iban|routing\s+number|sort\s+code|account\s+number|card\s+number|cvv|pin\s+code|ssn|social\s+security)\b/,
};

/** Finds contact details, links and scam signals in `original`. */
export function scanContent(original: string, allowedDomains: readonly string[] = []): ContentScan {
  const text = normalizeForScan(original);
  const found: ContentFinding[] = [];
  const add = (kind: ContentFindingKind, a: number, b: number, host?: string) => {
    const [start, end] = originalRange(text, a, b);
    found.push({ kind, start, end, ...(host && { host }) });
  };
  for (const m of matchesOf(EMAIL, text.text)) add('email', m.index, m.index + m[0].length);
  for (const m of matchesOf(EMAIL_AT_PROVIDER, text.text))
    add('email', m.index, m.index + m[0].length);
  for (const m of matchesOf(HANDLE, text.text)) add('handle', m.index, m.index + m[0].length);
  const undated = text.text.replace(DATES_AND_TIMES, (d) => '#'.repeat(d.length));
  for (const m of matchesOf(DIGIT_RUN, undated))
    if (isPhone(text, m[0], m.index)) add('phone', m.index, m.index + m[0].length);
  // linkify-it's fuzzy matching is the policy's costliest step: only text with a host-like dot
  // (after normalizing, every obfuscated dot is one) or a scheme can hold a link.
  const links = LINK_LIKE.test(text.text) ? (linkify.match(text.text) ?? []) : [];
  for (const link of links) {
    if (link.schema === 'mailto:') {
      add('email', link.index, link.lastIndex);
      continue;
    }
    const host = hostOf(link.url);
    if (!host || NOT_LINKS.has(host) || isAllowed(host, allowedDomains)) continue;
    if (link.schema === '' && !/[a-z]/.test(host.split('.').slice(-2, -1)[0] ?? '')) continue;
    add(
      SHORTENERS.includes(host.replace(/^www\./, '')) ? 'shortener' : 'link',
      link.index,
      link.lastIndex,
      host,
    );
  }
  const scam = SCAM_SIGNALS.filter((signal) => SCAM_PATTERNS[signal].test(text.text));
  return { findings: merge(found), scam };
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** A host on the allow-list, or under one of its domains. */
export function isAllowed(host: string, allowedDomains: readonly string[]): boolean {
  const bare = host.replace(/^www\./, '');
  return allowedDomains.some((d) => bare === d || bare.endsWith(`.${d}`));
}

/**
 * Whether a run of digits is a phone number rather than a date, a time range, a salary, an
 * amount range, a version or an address: international numbers are checked with
 * libphonenumber-js; national ones need 9 to 15 digits (8 with a leading 0).
 */
function isPhone(text: NormalizedText, run: string, index: number): boolean {
  const digits = run.replace(/\D/g, '');
  const groups = run.split(/\D+/).filter(Boolean);
  const before = text.text.slice(Math.max(0, index - 3), index);
  const after = text.text.slice(index + run.length, index + run.length + 4);
  if (run.startsWith('+')) {
    const parsed = parsePhoneNumberFromString(`+${digits}`);
    return parsed?.isPossible() === true;
  }
  if (digits.length > 15 || digits.length < 8) return false;
  if (digits.length === 8 && !digits.startsWith('0')) return false;
  // Amounts: a currency before or after, thousands ("85000-95000"), or "k".
  if (
    /[$€£¥₹]|\b(?:usd|eur|gbp|chf)\s*$/.test(before) ||
    /^\s*(?:[$€£k%]|usd|eur|gbp|chf)/.test(after)
  )
    return false;
  if (
    groups.length >= 2 &&
    groups.every((g) => g.length >= 4 && !g.startsWith('0') && g.endsWith('00'))
  )
    return false;
  // Dates and date or time ranges: 2024-03-15, 15.03.2024, 12.03-15.03, 10.30-11.30.
  if (/^\d{4}[-.]\d{1,2}[-.]\d{1,2}$|^\d{1,2}[-.]\d{1,2}[-.]\d{2,4}$/.test(run)) return false;
  if (groups.length === 4 && groups.every((g) => g.length <= 2) && /-/.test(run)) return false;
  if (/^\d{1,2}[-.]\d{1,2}[-.]\d{2,4}\s*-\s*\d{1,2}[-.]\d{1,2}[-.]\d{2,4}$/.test(run)) return false;
  // Versions and addresses of machines: 1.2.3.4, 192.168.10.200.
  if (
    groups.length >= 3 &&
    /^\d+(?:\.\d+)+$/.test(run) &&
    groups.every((g) => g.length <= 3) &&
    !run.startsWith('0')
  )
    return false;
  return true;
}

function merge(findings: ContentFinding[]): ContentFinding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: ContentFinding[] = [];
  for (const f of sorted) {
    const last = out.at(-1);
    if (last && f.start < last.end) last.end = Math.max(last.end, f.end);
    else out.push({ ...f });
  }
  return out;
}

// ---- Acting on what was found ------------------------------------------------------------

/** Where a message goes: a stranger's request, or a conversation its people accepted. */
export type ConversationSafetyState = 'request' | 'accepted';
export type ContentAction = 'allow' | 'mask' | 'reject';
export type ScamAction = 'allow' | 'warn' | 'reject';

export interface ContentRules {
  /** Email addresses, phone numbers, messenger handles. */
  contacts: ContentAction;
  /** Links off the allow-list (shorteners included). */
  links: ContentAction;
  scam: ScamAction;
}

export interface ContentPolicySettings {
  enabled: boolean;
  /** Links to these domains (and their subdomains) pass everywhere. */
  allowedDomains: string[];
  request: ContentRules;
  accepted: ContentRules;
}

export const CONTENT_POLICY_DEFAULTS: ContentPolicySettings = {
  enabled: true,
  allowedDomains: [],
  request: { contacts: 'mask', links: 'mask', scam: 'warn' },
  accepted: { contacts: 'allow', links: 'allow', scam: 'warn' },
};

/** What the recipient is told about a masked text. */
export type MaskNotice = 'contact-hidden' | 'link-hidden';
/** Why the policy refused a message (the sender sees the code). */
export type ContentRejectReason = 'contact-details' | 'link' | 'scam';

export interface ContentVerdict {
  reject?: ContentRejectReason;
  /** What the others see instead of the body, and why. */
  masked?: { body: string; notices: MaskNotice[] };
  /** Shown to the others next to the message (and flagged for moderators). */
  warning?: ScamSignal[];
}

const CONTACT_KINDS: ReadonlySet<ContentFindingKind> = new Set(['email', 'phone', 'handle']);
const MASK_TEXT: Record<MaskNotice, string> = {
  'contact-hidden': '[contact details hidden]',
  'link-hidden': '[link hidden]',
};

/** What the policy does to `body` sent in a conversation in `state`. */
export function judgeContent(
  body: string,
  state: ConversationSafetyState,
  settings: ContentPolicySettings,
  scan: ContentScan = scanContent(body, settings.allowedDomains),
): ContentVerdict {
  const rules = settings[state];
  const contacts = scan.findings.filter((f) => CONTACT_KINDS.has(f.kind));
  const links = scan.findings.filter((f) => !CONTACT_KINDS.has(f.kind));
  if (contacts.length > 0 && rules.contacts === 'reject') return { reject: 'contact-details' };
  if (links.length > 0 && rules.links === 'reject') return { reject: 'link' };
  if (scan.scam.length > 0 && rules.scam === 'reject') return { reject: 'scam' };
  const hide = [
    ...(rules.contacts === 'mask' ? contacts : []),
    ...(rules.links === 'mask' ? links : []),
  ].sort((a, b) => b.start - a.start);
  const verdict: ContentVerdict = {};
  if (hide.length > 0) {
    let masked = body;
    const notices = new Set<MaskNotice>();
    for (const f of hide) {
      const notice: MaskNotice = CONTACT_KINDS.has(f.kind) ? 'contact-hidden' : 'link-hidden';
      notices.add(notice);
      masked = masked.slice(0, f.start) + MASK_TEXT[notice] + masked.slice(f.end);
    }
    verdict.masked = { body: masked, notices: [...notices].sort() };
  }
  if (scan.scam.length > 0 && rules.scam === 'warn') verdict.warning = scan.scam;
  return verdict;
}

/** Whether anything was found (the conversation's state is only looked up then). */
export function hasFindings(scan: ContentScan): boolean {
  return scan.findings.length > 0 || scan.scam.length > 0;
}
