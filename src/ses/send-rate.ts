/**
 * The global send rate (messages per second) the pipeline shapes to:
 * SEND_RATE when set; else the account's MaxSendRate from GetSendQuota; else 14
 * (a fresh production account's rate). GetSendQuota is called with a timeout
 * because aws-ses-v2-local never answers it. Production calls this once per process,
 * through the composition root (src/composition-root.ts `sendRate()`), which logs the
 * source and reason and builds the worker's rate limiter from the result.
 */
import type { Config } from '../config.js';
import type { SesTransport } from './ses-transport.js';

export const DEFAULT_SEND_RATE = 14;

export interface ResolvedSendRate {
  rate: number;
  source: 'config' | 'ses' | 'default';
  /** Why the default was used, when it was. */
  reason?: string;
}

export async function resolveSendRate(
  config: Pick<Config, 'SEND_RATE'>,
  transport: Pick<SesTransport, 'getSendQuota'>,
  options: { timeoutMs?: number } = {},
): Promise<ResolvedSendRate> {
  if (config.SEND_RATE !== undefined) return { rate: config.SEND_RATE, source: 'config' };
  try {
    const quota = await transport.getSendQuota({ timeoutMs: options.timeoutMs ?? 2_000 });
    if (quota === null) return { rate: DEFAULT_SEND_RATE, source: 'default', reason: 'GetSendQuota did not answer in time' };
    if (quota.maxSendRate > 0) return { rate: quota.maxSendRate, source: 'ses' };
    return { rate: DEFAULT_SEND_RATE, source: 'default', reason: 'GetSendQuota reported no MaxSendRate' };
  } catch (err) {
    return { rate: DEFAULT_SEND_RATE, source: 'default', reason: `GetSendQuota failed: ${(err as Error).message}` };
  }
}
