import { ValidationError } from './errors.js';
import {
  SEARCH_LIMITS,
  matchRanges,
  searchQuerySchema,
  searchTerms,
  searchWords,
} from './search.js';

describe('search words', () => {
  it('folds case and accents and keeps each word once; punctuation separates words', () => {
    expect(searchWords('Café CAFE, café-Central; naïve 10:00')).toEqual([
      'cafe',
      'central',
      'naive',
      '10',
      '00',
    ]);
    expect(searchWords('x'.repeat(SEARCH_LIMITS.maxWordLength + 1) + ' ok')).toEqual(['ok']);
  });

  it('finds the ranges of the matched words in the original body, accents and case as written', () => {
    const body = 'The Café is next to the other café';
    expect(matchRanges(body, ['cafe']).map((r) => body.slice(r.start, r.end))).toEqual([
      'Café',
      'café',
    ]);
    expect(matchRanges(body, ['caf'])).toEqual([]);
  });

  it('refuses regular-expression characters, no word, too many words and too long a query', () => {
    for (const q of ['.*', 'a|b', '^a', 'a$', '(a)', '[a]', 'a+', 'a?', 'a{2}', 'a\\b', 'a/b'])
      expect(() => searchTerms(q)).toThrow(ValidationError);
    expect(() => searchTerms('!!! ,,,')).toThrow(ValidationError);
    expect(() => searchTerms('a b c d e f g h i')).toThrow(ValidationError);
    expect(searchTerms('a b c d e f g h a')).toHaveLength(8);
    expect(searchQuerySchema.safeParse({ q: 'x'.repeat(201) }).success).toBe(false);
    expect(searchQuerySchema.safeParse({ q: 'x'.repeat(1 << 20) }).success).toBe(false);
    expect(searchQuerySchema.safeParse({ q: 'x', limit: '51' }).success).toBe(false);
  });
});
