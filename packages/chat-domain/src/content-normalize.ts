/**
 * Text as the content policy reads it, with the way back: each character of the normalized
 * text knows the range of the original it came from, so what is found can be masked in the
 * original. Normalizing undoes the usual evasions before anything is matched: zero-width and
 * format characters, look-alike letters (Cyrillic, Greek, full-width, mathematical), spelled
 * digits in several languages ("six uno 2345678"), letters standing in for digits ("O6 l2"),
 * and bracketed or spelled dots ("example[.]com", "bit dot ly").
 */
export interface NormalizedText {
  text: string;
  /** Per character of `text`: where it starts and ends in the original. */
  starts: number[];
  ends: number[];
}

// Zero-width, joiners, bidi marks, soft hyphen, word joiners, BOM, Mongolian separator.
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u206A-\u206F\uFEFF]/u;
const MARKS = /\p{M}/gu;

/** Letters that look like Latin ones (Cyrillic and Greek), read as the Latin one. */
const LOOK_ALIKES: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ɡ: 'g',
  ո: 'n',
  ս: 'u',
  ⅼ: 'l',
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  '＠': '@',
  '﹫': '@',
  '。': '.',
  '．': '.',
  '｡': '.',
  '·': '.',
  '•': '.',
  '∙': '.',
  '‐': '-',
  '‑': '-',
  '‒': '-',
  '–': '-',
  '—': '-',
  '−': '-',
};

/** Spelled digits, in the languages candidates and recruiters write (accents already gone). */
const DIGIT_WORDS: Record<string, string> = {
  // English
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  // Spanish / Italian / Portuguese
  cero: '0',
  uno: '1',
  dos: '2',
  tres: '3',
  cuatro: '4',
  cinco: '5',
  seis: '6',
  siete: '7',
  ocho: '8',
  nueve: '9',
  due: '2',
  tre: '3',
  quattro: '4',
  cinque: '5',
  sei: '6',
  sette: '7',
  otto: '8',
  nove: '9',
  dois: '2',
  quatro: '4',
  sete: '7',
  oito: '8',
  // French
  un: '1',
  deux: '2',
  trois: '3',
  quatre: '4',
  cinq: '5',
  sept: '7',
  huit: '8',
  neuf: '9',
  // German / Dutch
  null: '0',
  eins: '1',
  zwei: '2',
  drei: '3',
  vier: '4',
  funf: '5',
  sechs: '6',
  sieben: '7',
  acht: '8',
  neun: '9',
  nul: '0',
  een: '1',
  twee: '2',
  vijf: '5',
  zes: '6',
  zeven: '7',
  negen: '9',
  plus: '+',
};

/**
 * Every match of a global `pattern`. Not `matchAll`: it copies the RegExp on each call, and
 * compiling these patterns again per message was most of the policy's cost.
 */
export function matchesOf(pattern: RegExp, text: string): RegExpExecArray[] {
  const found: RegExpExecArray[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    found.push(m);
    if (m[0].length === 0) pattern.lastIndex++;
  }
  return found;
}

/**
 * Replaces every match of `pattern` (global) by what `replace` returns for it (undefined: kept
 * as is); the new characters map to the whole original range of the match. Unchanged text is
 * returned as it was, without copying.
 */
export function rewrite(
  text: NormalizedText,
  pattern: RegExp,
  replace: (match: RegExpExecArray) => string | undefined,
): NormalizedText {
  let out = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let last = 0;
  let changed = false;
  const keep = (from: number, to: number) => {
    out += text.text.slice(from, to);
    for (let i = from; i < to; i++) {
      starts.push(text.starts[i]!);
      ends.push(text.ends[i]!);
    }
  };
  for (const match of matchesOf(pattern, text.text)) {
    const a = match.index;
    const b = a + match[0].length;
    if (b === a) continue;
    const value = replace(match);
    if (value === undefined) continue;
    changed = true;
    keep(last, a);
    out += value;
    for (let i = 0; i < value.length; i++) {
      starts.push(text.starts[a]!);
      ends.push(text.ends[b - 1]!);
    }
    last = b;
  }
  if (!changed) return text;
  keep(last, text.text.length);
  return { text: out, starts, ends };
}

// The spelled digits as whole words (one alternation: a message has few of them, many words).
const SPELLED = new RegExp(`(?<!\\p{L})(?:${Object.keys(DIGIT_WORDS).join('|')})(?!\\p{L})`, 'gu');

function characters(original: string): NormalizedText {
  let text = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let index = 0;
  for (const ch of original) {
    const start = index;
    index += ch.length;
    const code = ch.charCodeAt(0);
    // Plain ASCII (most of any message): lower-cased, nothing else to undo.
    let folded: string;
    if (code < 0x80) folded = code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : ch;
    else if (INVISIBLE.test(ch)) continue;
    else {
      folded = '';
      for (const c of ch.normalize('NFKD').replace(MARKS, '').toLowerCase())
        folded += LOOK_ALIKES[c] ?? c;
    }
    text += folded;
    for (let i = 0; i < folded.length; i++) {
      starts.push(start);
      ends.push(index);
    }
  }
  return { text, starts, ends };
}

/** The text every detector reads (see NormalizedText). */
export function normalizeForScan(original: string): NormalizedText {
  let text = characters(original);
  // Spelled digits ("six uno", "zwei"), and "plus" before a number.
  text = rewrite(text, SPELLED, (m) => DIGIT_WORDS[m[0]]);
  // A token of digits with letters standing in for some ("O6l2", "o612"): the letters are digits.
  text = rewrite(text, /(?<![\p{L}\d])[\doli|]*\d[\doli|]*(?![\p{L}\d])/gu, (m) =>
    m[0].length >= 2 && /[oli|]/.test(m[0])
      ? m[0].replace(/o/g, '0').replace(/[li|]/g, '1')
      : undefined,
  );
  // Spaced-out letters: "j o h n @ g m a i l . c o m", "6 1 2 3 4 5 6 7 8".
  text = rewrite(text, /(?<!\S)[a-z0-9@.](?:\s+[a-z0-9@.](?!\S)){3,}/g, (m) =>
    m[0].replace(/\s+/g, ''),
  );
  // Bracketed and spelled dots: "example[.]com", "bit (dot) ly", "site dot com", "hxxp://".
  text = rewrite(text, /\s*[([{<]\s*(?:\.|dot|punkt|punto|point)\s*[)\]}>]\s*/g, () => '.');
  text = rewrite(text, /(?<=[a-z0-9])\s+(?:dot|punkt|punto|point)\s+(?=[a-z0-9])/g, () => '.');
  text = rewrite(text, /\bhxxps?\b/g, (m) => m[0].replace('hxxp', 'http'));
  // "bit . ly/x", "example .com": spaces around a dot before a top-level domain.
  text = rewrite(
    text,
    /(?<=[a-z0-9])\s*\.\s+(?=(?:com|net|org|io|ly|me|co|gl|gy|info|biz|xyz|ru|app|site|online|top|link|click)\b)/g,
    () => '.',
  );
  text = rewrite(
    text,
    /(?<=[a-z0-9])\s+\.\s*(?=(?:com|net|org|io|ly|me|co|gl|gy|info|biz|xyz|ru|app|site|online|top|link|click)\b)/g,
    () => '.',
  );
  return text;
}

/** The original range of normalized characters [a, b). */
export function originalRange(text: NormalizedText, a: number, b: number): [number, number] {
  return [text.starts[a]!, text.ends[b - 1]!];
}
