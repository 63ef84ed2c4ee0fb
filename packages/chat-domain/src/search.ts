import { z } from 'zod';
import { ValidationError } from './errors.js';
import { messageDtoSchema } from './responses.js';

/** The caps of a search: every query's cost is bounded by these, never by what is stored. */
export const SEARCH_LIMITS = {
  /** The query text, in UTF-16 code units. */
  maxQueryLength: 200,
  /** Distinct words of a query; a message matches when it holds all of them. */
  maxTerms: 8,
  maxPageSize: 50,
  defaultPageSize: 20,
  /** A person's most recently active conversations a search without `conversationId` covers. */
  maxConversations: 100,
  /** Words longer than this are neither indexed nor searchable. */
  maxWordLength: 64,
  /** Distinct words indexed per message (a 4,000-character body has fewer in practice). */
  maxWordsPerMessage: 1000,
} as const;

const WORD = /[\p{L}\p{N}]+/gu;
/** Characters a regular expression would read as syntax: refused, so nobody thinks they work. */
const METACHARACTERS = /[.*+?^$(){}[\]|\\/]/;

/** A word as it is indexed and compared: case and accents folded. */
export function foldWord(word: string): string {
  return word.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The distinct folded words of a message body: what a search can find it by. */
export function searchWords(body: string): string[] {
  const words = new Set<string>();
  for (const [word] of body.matchAll(WORD)) {
    const folded = foldWord(word);
    if (folded.length === 0 || folded.length > SEARCH_LIMITS.maxWordLength) continue;
    words.add(folded);
    if (words.size >= SEARCH_LIMITS.maxWordsPerMessage) break;
  }
  return [...words];
}

/** The query's distinct folded words; a VALIDATION error for regex syntax, none or too many. */
export function searchTerms(query: string): string[] {
  if (METACHARACTERS.test(query))
    throw new ValidationError('invalid search query', [
      {
        path: 'q',
        message:
          'words only: regular-expression characters (. * + ? ^ $ ( ) { } [ ] | \\ /) are not allowed',
      },
    ]);
  const terms = searchWords(query);
  if (terms.length === 0)
    throw new ValidationError('invalid search query', [
      { path: 'q', message: 'needs at least one word' },
    ]);
  if (terms.length > SEARCH_LIMITS.maxTerms)
    throw new ValidationError('invalid search query', [
      { path: 'q', message: `at most ${SEARCH_LIMITS.maxTerms} distinct words` },
    ]);
  return terms;
}

/** Where `terms` occur in `body`, as [start, end) offsets in UTF-16 code units, in order. */
export function matchRanges(
  body: string,
  terms: readonly string[],
): { start: number; end: number }[] {
  const wanted = new Set(terms);
  const ranges: { start: number; end: number }[] = [];
  for (const match of body.matchAll(WORD))
    if (wanted.has(foldWord(match[0])))
      ranges.push({ start: match.index, end: match.index + match[0].length });
  return ranges;
}

export const searchQuerySchema = z
  .strictObject({
    q: z
      .string()
      .min(1)
      .max(SEARCH_LIMITS.maxQueryLength)
      .meta({
        description: `Words to find (all of them), at most ${SEARCH_LIMITS.maxTerms}; case and accents ignored.`,
      }),
    conversationId: z
      .string()
      .max(64)
      .optional()
      .meta({ description: 'Search this conversation only.' }),
    cursor: z
      .string()
      .max(256)
      .optional()
      .meta({ description: 'The `nextCursor` of the previous page.' }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(SEARCH_LIMITS.maxPageSize)
      .default(SEARCH_LIMITS.defaultPageSize),
  })
  .meta({ id: 'SearchQuery' });
export type SearchQuery = z.infer<typeof searchQuerySchema>;

export const searchHitSchema = z
  .object({
    conversationId: z.string(),
    message: messageDtoSchema,
    ranges: z.array(z.object({ start: z.number().int(), end: z.number().int() })).meta({
      description: 'The matched words in `message.body`, [start, end) in UTF-16 code units.',
    }),
  })
  .meta({ id: 'SearchHit' });

export const searchPageSchema = z
  .object({
    hits: z.array(searchHitSchema).meta({ description: 'Newest first.' }),
    nextCursor: z.string().optional().meta({ description: 'Present when older hits remain.' }),
  })
  .meta({ id: 'SearchPage' });
export type SearchPage = z.output<typeof searchPageSchema>;
