import fc from 'fast-check';
import { lexicalTerms, toBooleanQuery, toTwoTermsQuery } from './lexical-query';

describe('toBooleanQuery', () => {
  it('keeps plain lower-case terms, OR-ed by spaces', () => {
    expect(toBooleanQuery('Invoice reconciliation, Lisbon office')).toBe('invoice reconciliation lisbon office');
  });

  it('strips every boolean-mode operator and quote', () => {
    expect(toBooleanQuery('+invoice -"Lisbon office" (recon*) ~tax >vat <net @4 \'x\'')).toBe(
      'invoice lisbon office recon tax vat net',
    );
  });

  it('drops terms InnoDB would ignore and repeats, and returns null when nothing is left', () => {
    expect(lexicalTerms('an ox is at the zoo zoo ZOO')).toEqual(['zoo']); // 'the' is an InnoDB stopword: never indexed
    expect(toBooleanQuery('+ - " ( ) * a b')).toBeNull();
    expect(toBooleanQuery('')).toBeNull();
  });

  it('keeps letters and digits of any script', () => {
    expect(toBooleanQuery('Übersicht 2024 café 東京都')).toBe('übersicht 2024 café 東京都');
  });

  it('property: the result only ever holds letters, digits and single spaces', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (query) => {
        const result = toBooleanQuery(query);
        if (result !== null) expect(result).toMatch(/^[\p{L}\p{N}]+( [\p{L}\p{N}]+)*$/u);
        expect(lexicalTerms(query).length).toBeLessThanOrEqual(32);
      }),
    );
  });
});

describe('toTwoTermsQuery', () => {
  it('requires every pair of the terms as a group, so a row must hold two of them', () => {
    expect(toTwoTermsQuery('invoice Lisbon office')).toBe('(+invoice +lisbon) (+invoice +office) (+lisbon +office)');
    expect(toTwoTermsQuery('+invoice -"Lisbon"')).toBe('(+invoice +lisbon)');
  });

  it('has nothing to pair in a one-word query, and leaves long ones to the OR of their terms', () => {
    expect(toTwoTermsQuery('invoice the of')).toBeNull(); // stopwords are dropped first
    expect(toTwoTermsQuery('one two three four five six seven eight nine')).toBeNull();
    expect(toTwoTermsQuery('one2 two2 three four five six seven eight')?.split(') (')).toHaveLength(28);
  });

  it('property: only letters, digits, the + operator and parentheses reach MATCH', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (query) => {
        const result = toTwoTermsQuery(query);
        if (result !== null)
          expect(result).toMatch(/^\(\+[\p{L}\p{N}]+ \+[\p{L}\p{N}]+\)( \(\+[\p{L}\p{N}]+ \+[\p{L}\p{N}]+\))*$/u);
      }),
    );
  });
});
