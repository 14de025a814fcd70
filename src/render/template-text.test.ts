import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { escapeTemplateText, TEMPLATE_CONSTANTS } from './template-text.js';

describe('escapeTemplateText', () => {
  it.each(['{{name}}', '{{{x}}}', 'CreateOptions{}', '\\{{x}}', '\\\\{{x}}', '{{#if a}}b{{/if}}', '}}}', '{{!-- c --}}', '{{> p}}'])(
    'renders %s back verbatim, in both escaping modes',
    (s) => {
      const src = escapeTemplateText(s);
      expect(Handlebars.compile(src)(TEMPLATE_CONSTANTS)).toBe(s);
      expect(Handlebars.compile(src, { noEscape: true })({ ...TEMPLATE_CONSTANTS, name: 'X' })).toBe(s);
    },
  );

  it('survives random mixes of braces, backslashes and text', () => {
    const alphabet = ['{', '}', '\\', 'a', ' ', '#', '/', '>', '!'];
    let seed = 7;
    const rand = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let n = 0; n < 500; n++) {
      const s = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      expect(Handlebars.compile(escapeTemplateText(s), { noEscape: true })(TEMPLATE_CONSTANTS)).toBe(s);
    }
  });
});
