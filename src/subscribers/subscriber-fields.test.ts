import { describe, expect, it } from 'vitest';
import { emailProblem, normaliseEmail, parseEmail, parseName } from './subscriber-fields.js';
import { InputError } from '../errors.js';

describe('subscriber fields', () => {
  it('normalises addresses by trimming and lower-casing', () => {
    expect(normaliseEmail('  Ada@Example.COM\t')).toBe('ada@example.com');
    expect(parseEmail(' A.B+tag@Sub.Example.org ')).toBe('a.b+tag@sub.example.org');
  });

  it.each([
    'ada@example.com',
    'a.b+c@example.co.uk',
    "o'brien@example.ie",
    'x@xn--bcher-kva.example',
    'üser@example.com',
  ])('accepts %s', (email) => expect(emailProblem(email)).toBeUndefined());

  it.each([
    '',
    'plain',
    '@example.com',
    'a@',
    'a@localhost',
    'a@example.123',
    'a b@example.com',
    'a..b@example.com',
    '.a@example.com',
    'a.@example.com',
    'a@-example.com',
    'a@exa_mple.com',
    'a@example..com',
    'a<b@example.com',
    'a@example.com\nbcc:x@example.com',
    `${'x'.repeat(65)}@example.com`,
    `a@${'x'.repeat(250)}.com`,
  ])('rejects %j', (email) => expect(emailProblem(email)).toBeDefined());

  it('names: whitespace runs collapse, control characters are refused, empty is no name', () => {
    expect(parseName('  Ada\r\n  Lovelace ')).toBe('Ada Lovelace');
    expect(parseName('   ')).toBeNull();
    expect(parseName(undefined)).toBeNull();
    expect(() => parseName('Ada\u0000')).toThrow(InputError);
    expect(() => parseName('x'.repeat(201))).toThrow(/longer than 200/);
  });

  it('error messages escape control characters so reports stay on one line', () => {
    expect(() => parseEmail('a\r\nb@example.com')).toThrow(/a\\x0d\\x0ab@example.com/);
  });
});
