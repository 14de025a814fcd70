/**
 * The contract between the issue compiler and the send pipeline.
 *
 *   Issue ──compileIssue (once per issue)──▶ CompiledIssue (JSON-serializable; frozen
 *   in campaigns.compiled_json when a send starts)
 *   CompiledIssue ──prepareMessages (once per process per campaign)──▶ MessageFactory
 *   MessageFactory.build(recipient) ──▶ raw MIME for one subscriber (µs, per recipient)
 */

/** A problem found in an issue file; `line` is 1-based in the source file. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  file?: string;
  line?: number;
}

/** A compiled issue: templates precompiled to strings, safe to store and ship between machines. */
export interface CompiledIssue {
  version: 1;
  meta: { title: string; date: string | null; slug: string };
  /** Handlebars source of the subject (SUBJECT_TEMPLATE applied over front matter). */
  subjectTemplate: string;
  /** Handlebars source of the full HTML document; per-recipient fields are {{…}} placeholders. */
  htmlTemplate: string;
  /** Handlebars source of the plain-text part. */
  textTemplate: string;
  /** Preheader text (first paragraph). */
  preheader: string;
  warnings: Diagnostic[];
}

/** What varies per subscriber. Every field is escaped by the factory (HTML, headers). */
export interface Recipient {
  subscriberId: number;
  email: string;
  name: string | null;
  /** https URL of the one-click unsubscribe endpoint for this subscriber and list. */
  unsubscribeUrl: string;
}

export interface MessageOptions {
  /** `Name <address>` */
  from: string;
  campaignId: number;
  /** List-Id header value, e.g. `LWKD <default.lists.example.com>`; built by the caller. */
  listId: string;
  /** mailto: address for List-Unsubscribe (optional second URI). */
  unsubscribeMailto?: string;
  /** Link to the web archive copy of the issue ("view in browser"). */
  archiveUrl?: string;
}

export interface BuiltMessage {
  subject: string;
  /** Complete RFC 5322 message, CRLF line endings, no line over 998 octets (may be joined from `parts` on first read). */
  readonly raw: Buffer;
  /**
   * `raw` as the pieces it was joined from. The pieces that are the same for every recipient
   * are the same Buffer objects in every message of the factory, never modified, so an encoder
   * may keep their encoding (src/ses/form-base64.ts).
   */
  parts?: readonly Buffer[];
}

export interface MessageFactory {
  build(recipient: Recipient): BuiltMessage;
}
