import { describe, expect, it } from 'vitest';
import { CONFIRMATION_QUEUE } from '../signup/confirmation-queue.js';
import { KEY_FAMILIES, redisKeys, type RedisKeys } from './redis-keys.js';
import { FANOUT_QUEUE, SEND_QUEUE } from './send-queues.js';

/** One key of every family (and two of the parameterised ones), built from `prefix`. */
function sampleKeys(keys: RedisKeys): Record<string, string> {
  return {
    rateLimit: keys.rateLimit('send'),
    fleetMetric: keys.fleetMetric('sends'),
    session: keys.session('ab12'),
    signupIp: keys.signupWindow('ip', 'h1'),
    signupAddr: keys.signupWindow('addr', 'h1'),
    sendSweepLock: keys.sendSweepLock(),
    testSend: keys.testSendWindow(7),
    sentSpill: keys.sentSpill(),
    previewDocument: keys.previewDocument('cd34'),
    retentionLock: keys.retentionLock(),
  };
}

describe('redisKeys', () => {
  it('puts every key under `<prefix>:`, in one of the named families', () => {
    const samples = sampleKeys(redisKeys('nl-a'));
    for (const key of Object.values(samples)) {
      expect(key.startsWith('nl-a:')).toBe(true);
      expect(KEY_FAMILIES).toContain(key.split(':')[1]);
    }
    // Every family is used by some key function.
    expect(new Set(Object.values(samples).map((k) => k.split(':')[1]))).toEqual(new Set(KEY_FAMILIES));
  });

  it('gives distinct keys to distinct families and arguments', () => {
    const samples = Object.values(sampleKeys(redisKeys('nl')));
    expect(new Set(samples).size).toBe(samples.length);
    // Family names are unique and hold no separator, so one family's keys never parse as another's.
    expect(new Set(KEY_FAMILIES).size).toBe(KEY_FAMILIES.length);
    for (const family of KEY_FAMILIES) expect(family).not.toContain(':');
  });

  it('no family is named like a BullMQ queue (BullMQ owns `<prefix>:<queue>:*`)', () => {
    for (const queue of [FANOUT_QUEUE, SEND_QUEUE, CONFIRMATION_QUEUE]) expect(KEY_FAMILIES).not.toContain(queue);
  });

  it('keys of two prefixes never meet, and the SCAN pattern of one matches only its own', () => {
    const a = Object.values(sampleKeys(redisKeys('nl')));
    const b = Object.values(sampleKeys(redisKeys('nl2')));
    expect(a.some((k) => b.includes(k))).toBe(false);
    const pattern = redisKeys('nl').everything();
    const matches = (key: string) => new RegExp(`^${pattern.replace(/[-]/g, '\\$&').replace('*', '.*')}$`).test(key);
    expect(a.every(matches)).toBe(true);
    expect(b.some(matches)).toBe(false);
  });
});
