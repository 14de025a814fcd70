/**
 * The one recipient-message builder: from a campaign and the sender settings, the
 * MessageFactory options (From, List-Id, "view in browser" archive URL, campaign id) and
 * each recipient (signed unsubscribe URL). The send processor, test sends and
 * `render --to` all build here, so a test copy or a preview is the subscribers' message
 * but for the recipient fields. No IO: the caller loads the campaign.
 */
import { archiveUrlFor } from '../archive/archive-url.js';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { prepareMessages } from '../render/prepare-messages.js';
import { alternativeParts } from '../render/mime.js';
import type { BuiltMessage, CompiledIssue, MessageFactory, MessageOptions, Recipient } from '../render/types.js';
import type { Campaign } from '../store/schema.js';
import { signUnsubscribeToken } from '../unsubscribe/token.js';
import type { AudienceMember, PrepareMessages } from './ports.js';

/** What every copy of every campaign shares (FROM_ADDRESS, PUBLIC_URL, LIST_NAME, UNSUBSCRIBE_SECRET). */
export interface SenderSettings {
  from: string;
  publicUrl: string;
  listName: string;
  unsubscribeSecret: string;
}

/** Sender settings from the config; InputError (at `location`) when FROM_ADDRESS or UNSUBSCRIBE_SECRET is unset. */
export function senderSettings(config: Config, location?: string): SenderSettings {
  if (!config.FROM_ADDRESS) throw new InputError('FROM_ADDRESS is not set', location);
  if (!config.UNSUBSCRIBE_SECRET) throw new InputError('UNSUBSCRIBE_SECRET is not set', location);
  return { from: config.FROM_ADDRESS, publicUrl: config.PUBLIC_URL, listName: config.LIST_NAME, unsubscribeSecret: config.UNSUBSCRIBE_SECRET };
}

/** What of a campaign its message depends on. */
export interface CampaignMessageSource {
  campaignId: number;
  listId: number;
  issueSlug: string;
  compiled: CompiledIssue;
}

export function messageSourceOf(campaign: Pick<Campaign, 'id' | 'list_id' | 'issue_slug' | 'compiled_json'>): CampaignMessageSource {
  if (!campaign.compiled_json) throw new InputError(`campaign ${campaign.id} has no compiled issue`);
  return { campaignId: campaign.id, listId: campaign.list_id, issueSlug: campaign.issue_slug, compiled: JSON.parse(campaign.compiled_json) as CompiledIssue };
}

/** `Name <list-ID.host>`: one id per list, under PUBLIC_URL's host, so filters can tell lists apart. */
export function listIdHeader(listName: string, publicUrl: string, listId: number): string {
  const host = new URL(publicUrl).hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
  return `${listName.replace(/[<>\r\n"]/g, '')} <list-${listId}.${host}>`;
}

export function campaignMessageOptions(source: Omit<CampaignMessageSource, 'compiled'>, sender: Pick<SenderSettings, 'from' | 'publicUrl' | 'listName'>): MessageOptions {
  return {
    from: sender.from,
    campaignId: source.campaignId,
    listId: listIdHeader(sender.listName, sender.publicUrl, source.listId),
    // "View in browser": the issue's public archive page (src/http/pages/archive-routes.ts).
    archiveUrl: archiveUrlFor(sender.publicUrl, source.issueSlug),
  };
}

/** A list member as a Recipient: the unsubscribe URL carries a token signed for this subscriber and list. */
export function recipientFor(sender: Pick<SenderSettings, 'publicUrl' | 'unsubscribeSecret'>, listId: number, member: AudienceMember): Recipient {
  const token = signUnsubscribeToken({ subscriberId: member.id, listId }, sender.unsubscribeSecret);
  return { subscriberId: member.id, email: member.email, name: member.name, unsubscribeUrl: `${sender.publicUrl}/u/${token}` };
}

/** The stand-in reader of previews and of `render` for an address that is no subscriber. */
export function sampleRecipient(publicUrl: string, email = 'subscriber@example.com'): Recipient {
  return { subscriberId: 0, email, name: 'Sample Subscriber', unsubscribeUrl: `${publicUrl}/u/sample-token` };
}

/**
 * The marker that sets a test copy apart. A header line may stand anywhere in the header
 * block, so it is put in front of the built message; everything after it is byte-for-byte
 * what the factory builds for any recipient.
 */
export const TEST_MARKER_HEADER = 'X-Newsletter-Test: 1';
const TEST_MARKER = Buffer.from(`${TEST_MARKER_HEADER}\r\n`, 'latin1');

/** A test copy goes to subscriber 0 (no such subscriber): its unsubscribe link does nothing. */
export const TEST_SUBSCRIBER_ID = 0;

/** SES tags of a subscriber's message: the events webhook attributes SES events by them. */
export function sendTags(campaignId: number, subscriberId: number): Record<string, string> {
  return { campaign: String(campaignId), subscriber: String(subscriberId) };
}

/** SES tags of a test copy: no `campaign` tag, so SES events about test copies never count in the campaign's stats. */
export function testTags(campaignId: number): Record<string, string> {
  return { test: `c${campaignId}` };
}

export interface CampaignMessages {
  readonly source: CampaignMessageSource;
  readonly factory: MessageFactory;
  /** The message this list member gets. */
  build(member: AudienceMember): BuiltMessage;
  /** A test copy to `email`: the subscribers' message with the test marker and a token for no subscriber. */
  buildTest(email: string): BuiltMessage;
}

/** Prepare once per campaign (templates compiled, fixed headers encoded); build per recipient. */
export function prepareCampaignMessages(source: CampaignMessageSource, sender: SenderSettings, prepare: PrepareMessages = prepareMessages): CampaignMessages {
  const factory = prepare(source.compiled, campaignMessageOptions(source, sender));
  return {
    source,
    factory,
    build: (member) => factory.build(recipientFor(sender, source.listId, member)),
    buildTest(email) {
      const message = factory.build(recipientFor(sender, source.listId, { id: TEST_SUBSCRIBER_ID, email, name: null }));
      return { subject: message.subject, raw: Buffer.concat([TEST_MARKER, message.raw]) };
    },
  };
}

/** A copy as one reader sees it: the workspace's preview (inbox line, both parts, sizes). */
export interface ReaderCopy {
  subject: string;
  preheader: string;
  html: string;
  text: string;
  /** The HTML part as this reader gets it (Gmail clips over 102 KB). */
  htmlBytes: number;
  /** The whole raw MIME message. */
  messageBytes: number;
}

/**
 * The message this recipient would get, built by the same factory as a send; its HTML and
 * text parts are decoded from that built message, so a preview shows the bytes sent.
 */
export function readerCopy(source: CampaignMessageSource, sender: Pick<SenderSettings, 'from' | 'publicUrl' | 'listName'>, recipient: Recipient, prepare: PrepareMessages = prepareMessages): ReaderCopy {
  const built = prepare(source.compiled, campaignMessageOptions(source, sender)).build(recipient);
  const parts = alternativeParts(built.raw);
  return { subject: built.subject, preheader: source.compiled.preheader, html: parts.html, text: parts.text, htmlBytes: Buffer.byteLength(parts.html), messageBytes: built.raw.length };
}
