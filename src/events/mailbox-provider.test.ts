import { describe, expect, it } from 'vitest';
import { MAILBOX_PROVIDERS, providerOfDomain, providerOfEmail, smtpStatusOf } from './mailbox-provider.js';

describe('mailbox provider of a recipient', () => {
  const cases: Array<[string, string]> = [
    ['a@gmail.com', 'gmail'],
    ['a@GoogleMail.com', 'gmail'],
    ['a@outlook.com', 'microsoft'],
    ['a@hotmail.co.uk', 'microsoft'],
    ['a@outlook.fr', 'microsoft'],
    ['a@live.de', 'microsoft'],
    ['a@msn.com', 'microsoft'],
    ['a@yahoo.com', 'yahoo'],
    ['a@yahoo.co.jp', 'yahoo'],
    ['a@ymail.com', 'yahoo'],
    ['a@aol.com', 'yahoo'],
    ['a@icloud.com', 'apple'],
    ['a@me.com', 'apple'],
    ['a@mac.com', 'apple'],
    ['a@proton.me', 'proton'],
    ['a@protonmail.com', 'proton'],
    ['a@pm.me', 'proton'],
    ['a@gmx.de', 'gmx'],
    ['a@gmx.net', 'gmx'],
    ['a@web.de', 'gmx'],
    ['a@example.com', 'other'],
    ['a@live.example.org', 'other'],
    ['a@gmail.com.evil.example', 'other'],
    ['no-at-sign', 'other'],
  ];
  it.each(cases)('%s → %s', (email, provider) => {
    expect(providerOfEmail(email)).toBe(provider);
  });
  it('only ever answers a label of the fixed set', () => {
    for (let i = 0; i < 1000; i++) expect(MAILBOX_PROVIDERS).toContain(providerOfDomain(Math.random().toString(36)));
  });
});

describe('SMTP status of a bounce or delay', () => {
  it('prefers the enhanced code, else the reply code, else null', () => {
    expect(smtpStatusOf('5.7.515', '550 5.7.515 Access denied, sending domain does not meet the required authentication level')).toBe('5.7.515');
    expect(smtpStatusOf(null, 'smtp; 421 4.4.1 Unable to connect to remote host')).toBe('4.4.1');
    expect(smtpStatusOf(null, 'smtp; 550 mailbox unavailable')).toBe('550');
    expect(smtpStatusOf(null, 'no code <script>')).toBeNull();
  });
});
