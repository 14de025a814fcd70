/**
 * What the send pipeline needs from the parts around it, as interfaces: the store's
 * audience queries, the SES transport, the global rate limiter and the message factory.
 * workers/runtime.ts wires the real implementations; nothing here does IO.
 */
import type { CompiledIssue, MessageFactory, MessageOptions } from '../render/types.js';
import type { RateLimiterCounters } from '../queue/rate-limiter.js';

export interface AudienceMember {
  id: number;
  email: string;
  name: string | null;
}

export interface AudienceQuery {
  listId: number;
  maxSubscriberId?: number;
  joinedBefore?: number;
}

export interface AudienceSource {
  /** Keyset page: members with id > afterId, ascending, mailable now. */
  audiencePage(q: AudienceQuery & { afterId: number; limit: number }): Promise<AudienceMember[]>;
  audienceCount(q: AudienceQuery): Promise<number>;
  /** Active, subscribed to the list, not suppressed: checked again just before each send. */
  isMailable(subscriberId: number, listId: number): Promise<boolean>;
  /** Name and email for personalization, or undefined if the subscriber was removed. */
  recipient(subscriberId: number): Promise<{ email: string; name: string | null } | undefined>;
  /** List id by name (for the CLI). */
  listIdByName(name: string): Promise<number | undefined>;
}

export type SesErrorKind = 'rate-throttled' | 'quota-exceeded' | 'rejected' | 'account-paused' | 'transient' | 'permanent';

export interface SendRawInput {
  /**
   * The MIME message, whole or in the message factory's pieces (BuiltMessage.parts), whose
   * shared pieces the transport keeps encoded (src/ses/form-base64.ts).
   */
  raw: Buffer | readonly Buffer[];
  from: string;
  to: string;
  /** Message tags; SES event publishing carries them back (campaign, subscriber). */
  tags: Record<string, string>;
  /**
   * Epoch ms: the request is started only before this and abandoned (an uncertain timeout)
   * when it comes. Past it before the start, `sendRaw` rejects with ClaimExpiredError
   * (src/errors.ts) and nothing is sent. The send processor passes its claim's lease end.
   */
  deadline?: number;
  /**
   * Awaited after the SDK's own work (serialization, signing) and immediately before the
   * request is started (and before the `deadline` check): the send processor's rate-limit
   * slot, so that only the request itself follows the slot. Every MailTransport must await it
   * before its request starts (one with no later moment awaits it first): the processor holds
   * no other permit, so a transport that ignored it would send ahead of the rate.
   */
  startAt?: () => Promise<void>;
}

export interface SendErrorClassification {
  kind: SesErrorKind;
  /** SES may have accepted the message although we saw an error (timeout, connection lost after writing). */
  maybeSent: boolean;
  /** HTTP status when SES answered. */
  httpStatus?: number;
}

export interface SendQuota {
  max24HourSend: number;
  maxSendRate: number;
  sentLast24Hours: number;
}

export interface MailTransport {
  sendRaw(input: SendRawInput): Promise<{ messageId: string }>;
  /** null when SES does not answer (aws-ses-v2-local). */
  getSendQuota(): Promise<SendQuota | null>;
  classify(error: unknown): SendErrorClassification;
}

export interface RateLimiter {
  /** Resolves when this caller may send one message (global across processes). */
  acquire(): Promise<void>;
  /**
   * The same permit, handed out `leadMs` before its slot: `atSlot()` resolves at the slot
   * (src/queue/rate-limiter.ts `reserve`). The send processor claims and builds in the lead,
   * which ends at `slotAt` (performance.now()'s clock).
   */
  reserve(leadMs: number): Promise<{ atSlot(): Promise<void>; readonly slotAt: number }>;
  /** SES answered Throttling: slow everyone down. */
  reportThrottled(): Promise<void> | void;
  /** What this process's permits cost so far (logged by a stopping worker); absent on fakes. */
  tally?(): Readonly<RateLimiterCounters>;
}

export type PrepareMessages = (compiled: CompiledIssue, options: MessageOptions) => MessageFactory;
