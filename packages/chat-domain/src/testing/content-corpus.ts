/**
 * The content policy's corpus. `EVASIONS`: contact details and links written to get past a
 * filter, built from the evasions published about chat filters (spelled and mixed-language
 * digits, "at"/"dot", brackets, spacing, look-alike and zero-width characters, full-width and
 * mathematical digits, shorteners, "hxxp") crossed with our own names, numbers and domains.
 * `ORDINARY`: what candidates and recruiters write, full of numbers that are not phones
 * (dates, times, salaries, versions, street numbers, postcodes, ids). Deterministic: no random.
 */

const ZW = '\u200B';
const SPELLED_EN = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const SPELLED_ES = [
  'cero',
  'uno',
  'dos',
  'tres',
  'cuatro',
  'cinco',
  'seis',
  'siete',
  'ocho',
  'nueve',
];
const SPELLED_FR = ['zéro', 'un', 'deux', 'trois', 'quatre', 'cinq', 'six', 'sept', 'huit', 'neuf'];
const SPELLED_DE = [
  'null',
  'eins',
  'zwei',
  'drei',
  'vier',
  'fünf',
  'sechs',
  'sieben',
  'acht',
  'neun',
];

const spell = (digits: string, words: string[]) =>
  [...digits].map((d) => words[Number(d)]).join(' ');
const mixed = (digits: string) =>
  [...digits]
    .map((d, i) => (i % 3 === 0 ? SPELLED_EN[Number(d)] : i % 3 === 1 ? SPELLED_ES[Number(d)] : d))
    .join(' ');
const fullWidth = (s: string) => s.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
const boldDigits = (s: string) =>
  s.replace(/\d/g, (d) => String.fromCodePoint(0x1d7ce + Number(d)));
const zeroWidth = (s: string) => [...s].join(ZW);
const letterDigits = (s: string) => s.replace(/0/g, 'O').replace(/1/g, 'l');
const spaced = (s: string) => [...s.replace(/\s/g, '')].join(' ');

const NUMBERS = [
  '0612345678',
  '07700900123',
  '4155552671',
  '01711234567',
  '0791234567',
  '0470123456',
  '0201234567',
  '0612873340',
  '3125550199',
  '0687654321',
];
const GROUPED = [
  '06 12 34 56 78',
  '07700 900123',
  '415-555-2671',
  '0171 1234567',
  '079 123 45 67',
  '(312) 555-0199',
  '06.87.65.43.21',
  '020 123 4567',
];
const INTERNATIONAL = [
  '+44 20 7946 0958',
  '+1 415 555 2671',
  '+33 6 12 34 56 78',
  '+49 171 1234567',
  '+31 6 12345678',
  '+41 79 123 45 67',
  '+34 612 345 678',
  '+91 98765 43210',
  '+61 412 345 678',
  '+55 11 91234 5678',
];
const PHONE_LEADS = [
  'call me on',
  'my number is',
  'text me at',
  'reach me:',
  'whatsapp',
  'ring',
  'my cell',
  'contact me at',
  'mobile',
  'tel',
];

function phones(): string[] {
  const out: string[] = [];
  NUMBERS.forEach((n, i) => {
    const lead = PHONE_LEADS[i % PHONE_LEADS.length];
    out.push(`${lead} ${spell(n, SPELLED_EN)}`);
    out.push(`${lead} ${mixed(n)}`);
    out.push(`${lead} ${spaced(n)}`);
    out.push(`${lead} ${letterDigits(n)}`);
    out.push(`${lead} ${zeroWidth(n)}`);
    out.push(`${lead} ${fullWidth(n)}`);
    out.push(`${lead} ${boldDigits(n)}`);
  });
  NUMBERS.slice(0, 5).forEach((n) => {
    out.push(`numero: ${spell(n, SPELLED_ES)}`);
    out.push(`appelle-moi au ${spell(n, SPELLED_FR)}`);
    out.push(`ruf mich an: ${spell(n, SPELLED_DE)}`);
    out.push(`my number ${n.slice(0, 3)} - ${n.slice(3, 6)} - ${n.slice(6)}`);
  });
  GROUPED.forEach((g) => out.push(`call ${g} after 6pm`, `${g.replace(/ /g, '  ')} is my mobile`));
  INTERNATIONAL.forEach((n) => {
    out.push(`reach me on ${n}`);
    out.push(`plus ${spell(n.replace(/\D/g, ''), SPELLED_EN)}`);
    out.push(`${n.replace(/ /g, '.')} anytime`);
  });
  // Published examples: the number split across words and symbols.
  out.push(
    'six uno 2345678',
    '6 uno 2 3 4 5 6 7 8 call me',
    'five five five - one two three - four five six seven',
    'my digits: 4I5 555 267I',
    'O7 7OO 9OO l23 text',
    '☎ 0612345678',
    'zero six, one two, three four, five six, seven eight',
  );
  return out;
}

const NAMES = [
  'john.smith',
  'anna_k',
  'recruiter.hr',
  'jobs4you',
  'm.garcia',
  'hr.team',
  'peter77',
  'lisa.nguyen',
];
const PROVIDERS = [
  'gmail',
  'yahoo',
  'outlook',
  'protonmail',
  'hotmail',
  'icloud',
  'gmx',
  'company-hr',
];

function emails(): string[] {
  const out: string[] = [];
  NAMES.forEach((name, i) => {
    const host = PROVIDERS[i % PROVIDERS.length]!;
    const tld = i % 2 === 0 ? 'com' : 'net';
    out.push(`${name}@${host}.${tld}`);
    out.push(`${name} at ${host} dot ${tld}`);
    out.push(`${name}(at)${host}(dot)${tld}`);
    out.push(`${name} [at] ${host} [dot] ${tld}`);
    out.push(`${name} {at} ${host} {dot} ${tld}`);
    out.push(`${spaced(`${name}@${host}.${tld}`)}`);
    out.push(`${zeroWidth(name)}@${host}.${tld}`);
    out.push(`${name}@${host.replace(/a/g, 'а').replace(/o/g, 'о')}.${tld}`);
    out.push(`write to ${name} at ${host}`);
    out.push(`${name.toUpperCase()} @ ${host.toUpperCase()} . ${tld.toUpperCase()}`);
    out.push(`${name}＠${host}．${tld}`);
  });
  return out;
}

const DOMAINS = [
  'example.com',
  'quick-jobs.xyz',
  'apply-now.net',
  'career-fast.io',
  'hr-portal.org',
  'paybonus.co',
];
const SHORT = [
  'bit.ly/3xYzAb',
  'tinyurl.com/jobs123',
  't.co/AbC12',
  'goo.gl/xyz',
  'cutt.ly/w9',
  'rb.gy/q1w2',
];

function links(): string[] {
  const out: string[] = [];
  DOMAINS.forEach((d) => {
    const [name, tld] = d.split('.') as [string, string];
    out.push(`apply at https://${d}/apply`);
    out.push(`go to www.${d}`);
    out.push(`${name} dot ${tld}/form`);
    out.push(`${name}[.]${tld}`);
    out.push(`${name}(.)${tld}/start`);
    out.push(`hxxps://${d}/pay`);
    out.push(`${name} . ${tld}`);
    out.push(`${zeroWidth(name)}.${tld}/x`);
  });
  SHORT.forEach((s) => {
    out.push(`details here: ${s}`);
    out.push(`${s.replace('.', ' . ')}`);
    out.push(`${s.replace('.', '[.]')}`);
  });
  out.push('wa.me/14155552671', 't.me/recruiter_jobs', 'join t.me/hr_fasthire for details');
  return out;
}

const HANDLES = ['@hr_anna', '@jobs_now', '@recruit.peter', '@fasthire'];
function handles(): string[] {
  return HANDLES.flatMap((h) => [
    `my telegram: ${h}`,
    `add me ${h} on telegram`,
    `whatsapp: ${h.slice(1)}`,
    `skype: ${h.slice(1)}`,
  ]);
}

export const EVASIONS: string[] = [...phones(), ...emails(), ...links(), ...handles()];

// ---- Ordinary messages ---------------------------------------------------------------------

const DATES = [
  '15.03.2024',
  '2024-03-15',
  '03/15/2024',
  '1 April',
  'March 3rd',
  'the 12th',
  '12.03-15.03',
  'Monday 4/11',
];
const TIMES = ['10:30', '9:00-17:00', '14.00', '10.30-11.30', '3pm', '08:45', '16:00 CET', 'noon'];
const SALARIES = [
  '85,000 - 95,000 EUR',
  '€60k-€70k',
  '$120,000',
  '85000-95000 EUR',
  '4.500 € brut',
  '£45,000 per year',
  '120k-140k',
  'CHF 110000',
  '65000 USD',
  '3,200 net per month',
];
const VERSIONS = [
  'Node 18.17.1',
  'Python 3.11',
  'React 18.2.0',
  'Java 21',
  'TypeScript 5.4',
  'Kubernetes 1.29.3',
  'ASP.NET 8',
  'Angular 17.1',
];
const ADDRESSES = [
  'Hauptstraße 123, 10115 Berlin',
  '350 Fifth Avenue, New York, NY 10118',
  '221B Baker Street',
  'Calle Mayor 45, 28013 Madrid',
  'Rue de Rivoli 99, 75001 Paris',
  '1600 Amphitheatre Parkway',
  'Keizersgracht 452, 1016 GD Amsterdam',
  'Bahnhofstrasse 10, 8001 Zürich',
];
const IDS = ['#48213', 'JIRA-12345', 'REQ-2024-0042', 'job 88231', 'ticket 5531', 'case 7781'];

const TEMPLATES: ((i: number) => string)[] = [
  (i) => `Could we do the interview on ${DATES[i % DATES.length]} at ${TIMES[i % TIMES.length]}?`,
  (i) => `The salary range for this role is ${SALARIES[i % SALARIES.length]}, plus bonus.`,
  (i) => `We run ${VERSIONS[i % VERSIONS.length]} in production; have you used it?`,
  (i) => `Our office is at ${ADDRESSES[i % ADDRESSES.length]}, second floor.`,
  (i) =>
    `I have ${(i % 12) + 1} years of experience and my notice period is ${(i % 3) + 1} months.`,
  (i) => `Thanks! I applied for ${IDS[i % IDS.length]} last week, any news?`,
  (i) => `The team has ${(i % 20) + 4} engineers and we ship every ${(i % 3) + 1} weeks.`,
  (i) => `My expectation is around ${SALARIES[(i + 3) % SALARIES.length]}; is that in budget?`,
  (i) => `Availability: ${DATES[(i + 2) % DATES.length]} between ${TIMES[(i + 1) % TIMES.length]}.`,
  (i) => `I can start on ${DATES[(i + 5) % DATES.length]}; my current contract ends then.`,
  (i) => `Second round is ${(i % 4) + 1} hours long, with a ${(i % 45) + 15}-minute break.`,
  (i) =>
    `We upgraded from ${VERSIONS[i % VERSIONS.length]} to ${VERSIONS[(i + 1) % VERSIONS.length]} last quarter.`,
  (i) =>
    `Parking is free at ${ADDRESSES[(i + 1) % ADDRESSES.length]}; ring the bell at gate ${(i % 9) + 1}.`,
  (i) =>
    `The take-home should take ${(i % 3) + 2} to ${(i % 3) + 4} hours, due on ${DATES[(i + 4) % DATES.length]}.`,
  (i) => `One more question: is the ${(i % 30) + 20}% remote policy flexible?`,
  (i) => `I scored ${1200 + ((i * 37) % 400)} on the test and finished ${(i % 5) + 1} of 6 tasks.`,
  (i) =>
    `Benefits: ${(i % 10) + 25} days of holiday, ${(i % 5) + 3}% pension, and a ${(i % 3) + 1}k learning budget.`,
  (i) =>
    `Great talking today! Next step is a call with the CTO on ${DATES[(i + 6) % DATES.length]} at ${TIMES[(i + 3) % TIMES.length]}.`,
  (i) =>
    `The contract runs from ${DATES[i % DATES.length]} to ${DATES[(i + 1) % DATES.length]} (${(i % 12) + 6} months).`,
  (i) =>
    `Relocation package covers ${SALARIES[(i + 5) % SALARIES.length]} and ${(i % 3) + 1} months of housing.`,
  (i) => `Sorry for the delay, I was out until ${DATES[(i + 3) % DATES.length]}. Still interested!`,
  (i) =>
    `Please bring an ID; reception is at ${ADDRESSES[(i + 2) % ADDRESSES.length]}, opens ${TIMES[(i + 2) % TIMES.length]}.`,
  (i) =>
    `Our stack: ${VERSIONS[(i + 2) % VERSIONS.length]}, Postgres ${(i % 4) + 13}, Redis 7.${i % 4}.`,
  (i) =>
    `That's a good signal, the hiring manager liked your answers to questions ${(i % 5) + 1} and ${(i % 5) + 2}.`,
  (i) =>
    `Is a start on ${DATES[(i + 7) % DATES.length]} realistic with your ${(i % 3) + 1}-month notice?`,
];

export const ORDINARY: string[] = Array.from({ length: 60 * TEMPLATES.length }, (_, n) =>
  TEMPLATES[n % TEMPLATES.length]!(Math.floor(n / TEMPLATES.length)),
);
