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

interface Piece {
  ch: string;
  start: number;
  end: number;
}

function pieces(text: NormalizedText): Piece[] {
  return [...text.text].map((ch, i) => ({ ch, start: text.starts[i]!, end: text.ends[i]! }));
}

function assemble(parts: Piece[]): NormalizedText {
  const out: NormalizedText = { text: '', starts: [], ends: [] };
  for (const p of parts) {
    // One entry per UTF-16 unit, so indexes into `text` (what RegExp gives) map back directly.
    for (let i = 0; i < p.ch.length; i++) {
      out.starts.push(p.start);
      out.ends.push(p.end);
    }
    out.text += p.ch;
  }
  return out;
}

/**
 * Replaces every match of `pattern` (global) by what `replace` returns for it; the new
 * characters map to the whole original range of the match.
 */
export function rewrite(
  text: NormalizedText,
  pattern: RegExp,
  replace: (match: RegExpExecArray) => string | undefined,
): NormalizedText {
  const out: Piece[] = [];
  let last = 0;
  const from = pieces(text);
  // `pieces` splits by code point; the regex works in UTF-16 units: keep a unit index per piece.
  const unitToPiece: number[] = [];
  from.forEach((p, i) => {
    for (let u = 0; u < p.ch.length; u++) unitToPiece.push(i);
  });
  for (const match of text.text.matchAll(pattern)) {
    const value = replace(match);
    if (value === undefined) continue;
    const a = unitToPiece[match.index]!;
    const b = unitToPiece[match.index + match[0].length - 1]!;
    out.push(...from.slice(last, a));
    const start = from[a]!.start;
    const end = from[b]!.end;
    for (const ch of value) out.push({ ch, start, end });
    last = b + 1;
  }
  out.push(...from.slice(last));
  return assemble(out);
}

function characters(original: string): NormalizedText {
  const out: Piece[] = [];
  let index = 0;
  for (const ch of original) {
    const start = index;
    index += ch.length;
    if (INVISIBLE.test(ch)) continue;
    const folded = ch.normalize('NFKD').replace(MARKS, '').toLowerCase();
    for (const c of folded) out.push({ ch: LOOK_ALIKES[c] ?? c, start, end: index });
  }
  return assemble(out);
}

/** The text every detector reads (see NormalizedText). */
export function normalizeForScan(original: string): NormalizedText {
  let text = characters(original);
  // Spelled digits ("six uno", "zwei"), and "plus" before a number.
  text = rewrite(text, /\p{L}+/gu, (m) => DIGIT_WORDS[m[0]]);
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
