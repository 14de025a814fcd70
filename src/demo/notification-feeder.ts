/**
 * Plays Amazon SES + SNS for the demo: for every message the pipeline sent to a mailbox-
 * simulator address, build the notifications SES would publish (the ses branch's
 * builders), sign them like SNS, and POST them to the server's real /webhooks/ses, where
 * they are verified and applied like production traffic.
 *
 * Complaints are held back until `releaseHeld()`: real complaints arrive hours after
 * delivery, and a complaint mid-send would (correctly) trip the reputation breaker.
 */
import type { AwaitingOutcomeRepository } from '../store/awaiting-outcome-repository.js';
import type { Store } from '../store/db.js';
import { openRepositories } from '../store/repositories.js';
import { notificationsFor, type MailContext, type SimulatedMail } from '../simulator/mailbox-simulator.js';
import { signedNotification, type SnsSigningIdentity } from '../simulator/sns-signer.js';

export interface FeederOptions {
  store: Store;
  webhookUrl: string;
  identity: SnsSigningIdentity;
  topicArn: string;
  from: string;
  /** Parallel POSTs (default 8). */
  concurrency?: number;
}

const MAIL_CONTEXT: MailContext = {
  accountId: '123456789012',
  region: 'us-east-1',
  sourceIp: '127.0.0.1',
  callerIdentity: 'newsletter-demo',
};

export class NotificationFeeder {
  private readonly fed = new Set<string>();
  private readonly held: string[] = [];
  posted = 0;

  private readonly deliveries: Pick<AwaitingOutcomeRepository, 'sentAwaitingOutcome'>;

  constructor(private readonly options: FeederOptions) {
    this.deliveries = openRepositories(options.store).awaitingOutcome;
  }

  /** Feed notifications for messages sent since the last call; returns how many were posted. */
  async pump(campaignId: number): Promise<number> {
    // Rows still waiting for their outcome; fed ones leave 'sent' once the webhook applied them.
    const rows = await this.deliveries.sentAwaitingOutcome(campaignId);
    const bodies: string[] = [];
    for (const row of rows) {
      const key = `${campaignId}:${row.subscriberId}`;
      if (this.fed.has(key)) continue;
      this.fed.add(key);
      const mail: SimulatedMail = {
        messageId: row.sesMessageId,
        at: row.sentAt ?? Date.now(),
        source: this.options.from,
        destinations: [row.email],
        raw: Buffer.from(`From: ${this.options.from}\r\nTo: ${row.email}\r\nSubject: newsletter\r\n\r\n`),
        tags: { campaign: String(campaignId), subscriber: String(row.subscriberId) },
      };
      const notes = notificationsFor(mail, MAIL_CONTEXT, 'event', { sendEvents: false, deliverAll: false, suppressionSubType: 'OnAccountSuppressionList' }, Date.now());
      for (const n of notes) {
        const body = JSON.stringify(signedNotification(n.payload, this.options.identity, { topicArn: this.options.topicArn }));
        if (n.type === 'Complaint') this.held.push(body);
        else bodies.push(body);
      }
    }
    await this.post(bodies);
    return bodies.length;
  }

  /** Post the complaints held back so far. */
  async releaseHeld(): Promise<number> {
    const bodies = this.held.splice(0);
    await this.post(bodies);
    return bodies.length;
  }

  private async post(bodies: string[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const res = await fetch(this.options.webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': 'text/plain; charset=UTF-8',
            'x-amz-sns-message-type': 'Notification',
            'x-amz-sns-topic-arn': this.options.topicArn,
          },
          body,
        });
        await res.arrayBuffer();
        if (res.status >= 300) throw new Error(`webhook answered ${res.status} to a signed notification`);
        this.posted++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 8, bodies.length) }, worker));
  }
}
