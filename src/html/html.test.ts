import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeXml, html, readerPage, SafeHtml } from './html.js';

describe('escapeHtml', () => {
  it('escapes markup, both quotes, the backtick and =; null and undefined are empty', () => {
    expect(escapeHtml(`<a b="c" d='e'>&\`=`)).toBe('&lt;a b&#61;&quot;c&quot; d&#61;&#39;e&#39;&gt;&amp;&#96;&#61;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });
});

describe('escapeXml', () => {
  it('escapes the five XML entities and drops characters XML 1.0 forbids', () => {
    expect(escapeXml(`<t a="1" b='2'>&</t>`)).toBe('&lt;t a=&quot;1&quot; b=&apos;2&apos;&gt;&amp;&lt;/t&gt;');
    expect(escapeXml('a\u0000b\u0008c\td\ne')).toBe('abc\td\ne');
  });
});

describe('html tag', () => {
  it('escapes interpolations except SafeHtml, joins arrays, renders null/undefined/false as nothing', () => {
    const out = html`<p>${'<b>'}${new SafeHtml('<i>ok</i>')}${[html`<li>${'&'}</li>`, '<x>']}${null}${undefined}${false}${0}</p>`;
    expect(out.value).toBe('<p>&lt;b&gt;<i>ok</i><li>&amp;</li>&lt;x&gt;0</p>');
  });
});

describe('readerPage', () => {
  it('escapes the title, keeps the body, and is noindex unless told otherwise', () => {
    const page = readerPage('<Title>', '<h1>Hi</h1>');
    expect(page).toContain('<title>&lt;Title&gt;</title>');
    expect(page).toContain('<main><h1>Hi</h1></main>');
    expect(page).toContain('<meta name="robots" content="noindex,nofollow">');
    expect(page).not.toContain('<script');
    expect(readerPage('t', '', { noindex: false })).not.toContain('noindex');
  });
});
