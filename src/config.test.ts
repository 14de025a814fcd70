/**
 * The configuration refuses an uncertainty grace that is not comfortably above the SES request
 * timeout (issue #17): the grace starts when a claim's lease (the request deadline) ends, and a
 * request SES was too slow to answer may still be accepted and published about as late again.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, uncertainAfterMs } from './config.js';
import { ConfigError } from './errors.js';

describe('UNCERTAIN_GRACE_S against SES_REQUEST_TIMEOUT_S', () => {
  it('refuses a grace under twice the request timeout, naming both variables', () => {
    // The demo's old setting: a 5 s grace against the default 15 s request timeout.
    expect(() => loadConfig({ UNCERTAIN_GRACE_S: '5' })).toThrow(ConfigError);
    expect(() => loadConfig({ UNCERTAIN_GRACE_S: '5' })).toThrow(/UNCERTAIN_GRACE_S.*5.*SES_REQUEST_TIMEOUT_S.*15/s);
    // Equal to the timeout, or just under twice it: still refused.
    expect(() => loadConfig({ UNCERTAIN_GRACE_S: '15' })).toThrow(/UNCERTAIN_GRACE_S.*SES_REQUEST_TIMEOUT_S/s);
    expect(() => loadConfig({ UNCERTAIN_GRACE_S: '2.9', SES_REQUEST_TIMEOUT_S: '1.5' })).toThrow(/UNCERTAIN_GRACE_S \(2\.9\).*SES_REQUEST_TIMEOUT_S \(1\.5\)/s);
  });

  it('accepts a grace of at least twice the request timeout, and the defaults', () => {
    expect(loadConfig({}).UNCERTAIN_GRACE_S).toBe(300);
    expect(loadConfig({}).SES_REQUEST_TIMEOUT_S).toBe(15);
    expect(loadConfig({ UNCERTAIN_GRACE_S: '30' }).UNCERTAIN_GRACE_S).toBe(30);
    expect(loadConfig({ UNCERTAIN_GRACE_S: '5', SES_REQUEST_TIMEOUT_S: '2' }).SES_REQUEST_TIMEOUT_S).toBe(2);
  });

  it('a row becomes requeueable only after the request deadline plus the grace', () => {
    expect(uncertainAfterMs(loadConfig({ UNCERTAIN_GRACE_S: '5', SES_REQUEST_TIMEOUT_S: '2' }))).toBe(7000);
  });

  it('still names other bad variables (the cross-check does not hide them)', () => {
    expect(() => loadConfig({ SES_REQUEST_TIMEOUT_S: 'soon' })).toThrow(/SES_REQUEST_TIMEOUT_S/);
  });
});

describe('canary defaults', () => {
  it('are off unless CANARY_PERCENT is set; a share reads as 5% or 5; the wait is in minutes, fractions allowed', () => {
    expect(loadConfig({}).CANARY_PERCENT).toBeUndefined();
    expect(loadConfig({}).CANARY_WAIT_MIN).toBe(60);
    expect(loadConfig({ CANARY_PERCENT: '5%' }).CANARY_PERCENT).toBe(5);
    expect(loadConfig({ CANARY_PERCENT: '0.5' }).CANARY_PERCENT).toBe(0.5);
    expect(loadConfig({ CANARY_PERCENT: '' }).CANARY_PERCENT).toBeUndefined();
    expect(loadConfig({ CANARY_WAIT_MIN: '0.05' }).CANARY_WAIT_MIN).toBe(0.05);
    expect(() => loadConfig({ CANARY_PERCENT: 'lots' })).toThrow(/CANARY_PERCENT/);
    expect(() => loadConfig({ CANARY_PERCENT: '150%' })).toThrow(/CANARY_PERCENT/);
    expect(() => loadConfig({ CANARY_WAIT_MIN: '0' })).toThrow(/CANARY_WAIT_MIN/);
  });
});

describe('LEDGER_RETENTION_DAYS', () => {
  it('is off unless set, takes a positive number of days, and names itself when wrong', () => {
    expect(loadConfig({}).LEDGER_RETENTION_DAYS).toBeUndefined();
    expect(loadConfig({ LEDGER_RETENTION_DAYS: '' }).LEDGER_RETENTION_DAYS).toBeUndefined();
    expect(loadConfig({ LEDGER_RETENTION_DAYS: '90' }).LEDGER_RETENTION_DAYS).toBe(90);
    expect(() => loadConfig({ LEDGER_RETENTION_DAYS: '0' })).toThrow(/LEDGER_RETENTION_DAYS/);
    expect(() => loadConfig({ LEDGER_RETENTION_DAYS: 'forever' })).toThrow(/LEDGER_RETENTION_DAYS/);
  });
});
