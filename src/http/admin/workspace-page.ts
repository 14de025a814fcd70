/**
 * The editor's workspace (/admin/campaigns/new, /admin/campaigns/:id/edit), server-rendered
 * and pure like pages.ts: write or upload an issue, pick the list and the subject, save it
 * as a draft; on a saved draft also send a test, schedule or send it. The preview, the
 * preflight list and the inbox line are filled in by /admin/assets/workspace.js from
 * POST /admin/workspace/preview; the preview itself is a document of its own
 * (GET /admin/workspace/preview/:id) in sandboxed iframes (no scripts, no same origin).
 */
import type { SendEstimate } from '../../campaigns/send-estimate.js';
import { html } from '../../html/html.js';
import type { Principal } from '../auth.js';
import type { DraftView } from '../api/ports.js';
import { may } from '../role-policy.js';
import { layout } from './pages.js';

/** The two widths a preview is shown at: a desktop client's 600 px column and a phone. */
export const PREVIEW_WIDTHS = [600, 375] as const;

export interface WorkspacePageData {
  lists: string[];
  /** The list picked for a new issue. */
  list?: string;
  /** A saved campaign reopened; absent for a new issue. */
  draft?: DraftView;
  /** For a saved one: who it would go to now, at what rate and how long that takes. */
  estimate?: SendEstimate;
  /** The holder's address (the default test recipient). */
  editorEmail?: string | null;
  flash?: string;
  error?: string;
  /** A markdown the server refused to save (shown again so nothing typed is lost). */
  markdown?: string;
  subject?: string;
}

export function workspacePage(data: WorkspacePageData, session: { principal: Principal; csrf: string }): string {
  const draft = data.draft;
  const c = draft?.campaign;
  const role = session.principal.role;
  const markdown = data.markdown ?? draft?.markdown ?? '';
  const subject = data.subject ?? draft?.subjectOverride ?? '';
  const action = c ? `/admin/campaigns/${c.id}/edit` : '/admin/campaigns/new';
  const canSend = c !== undefined && may(role, 'campaigns.send') && (c.status === 'draft' || c.status === 'scheduled');
  const canTest = c !== undefined && may(role, 'campaigns.test');
  return layout(
    { title: c ? `Edit: ${c.subject}` : 'New issue', ...session, scripts: ['workspace.js'] },
    html`<p><a href="/admin">← Campaigns</a>${c ? html` · <a href="/admin/campaigns/${c.id}">Campaign #${c.id}</a>` : ''}</p>
<h1>${c ? html`Edit campaign #${c.id} <span class="status status-${c.status}">${c.status}</span>` : 'New issue'}</h1>
${data.flash ? html`<p class="flash" role="status">${data.flash}</p>` : ''}
${data.error ? html`<p class="error" role="alert">${data.error}</p>` : ''}
<div class="workspace" data-workspace data-campaign-id="${c?.id ?? ''}"${draft ? html` data-saved-markdown="${draft.markdown}"` : ''}>
<section class="compose">
<form method="post" action="${action}" class="compose-form" data-compose>
<input type="hidden" name="_csrf" value="${session.csrf}">
<label>List ${
      c
        ? html`<select name="list" disabled><option>${c.list}</option></select>`
        : data.lists.length === 0
          ? html`<select name="list" required><option value="">—</option></select> <span class="error">No lists yet: add subscribers first (<code>newsletter subscribers add EMAIL --list NAME</code>).</span>`
          : html`<select name="list" required>${data.lists.map((l) => html`<option value="${l}"${l === data.list ? html` selected` : ''}>${l}</option>`)}</select>`
    }</label>
<label>Subject <input type="text" name="subject" value="${subject}" placeholder="from SUBJECT_TEMPLATE" maxlength="300" data-subject></label>
<p class="hint">From SUBJECT_TEMPLATE: <span data-template-subject>—</span> (type above to override)</p>
<label>Markdown file <input type="file" accept=".md,.markdown,text/markdown,text/plain" data-upload></label>
<label for="markdown">Issue (Markdown)</label>
<textarea id="markdown" name="markdown" rows="28" spellcheck="false" required data-markdown>${markdown}</textarea>
<p><button type="submit" data-save>${c ? 'Save draft' : 'Save as draft'}</button> <span class="hint" data-dirty hidden>Unsaved changes</span></p>
</form>
<section class="preflight"><h2>Preflight <small data-preflight-summary></small></h2><ol class="diagnostics" data-diagnostics><li class="empty">Checking…</li></ol></section>
${c ? sendControls(c.id, c.status, c.scheduled_at, data, session.csrf, { canSend, canTest, sendable: draft!.sendable }) : html`<p class="hint">Save the draft to send a test, schedule or send it.</p>`}
</section>
<section class="preview">
<h2>Preview</h2>
<p class="preview-as"><label>As subscriber <input type="email" name="as" placeholder="sample reader" data-preview-as></label> <small data-reader></small></p>
<div class="inbox-line" data-inbox><strong data-inbox-subject></strong> <span data-inbox-preheader></span></div>
<p class="size" data-size></p>
<div class="frames">${PREVIEW_WIDTHS.map(
      (w) => html`<figure><figcaption>${w} px</figcaption><iframe title="preview at ${w} px" width="${w}" height="720" sandbox="" referrerpolicy="no-referrer" data-preview-frame="${w}" src="about:blank"></iframe></figure>`,
    )}</div>
<h3>Plain-text part</h3>
<pre class="text-part" data-text-part></pre>
</section>
</div>`,
  );
}

/** The audience count may be older than the page (src/campaigns/audience-sizes.ts): say when it was taken once it is over a minute old. */
function countedNote(estimate: SendEstimate | undefined, now = Date.now()) {
  if (estimate?.countedAt === undefined || now - estimate.countedAt < 60_000) return '';
  return html` <small data-estimate-counted>(audience counted ${new Date(estimate.countedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC)</small>`;
}

function sendControls(
  id: number,
  status: string,
  scheduledAt: string | null,
  data: WorkspacePageData,
  csrf: string,
  can: { canSend: boolean; canTest: boolean; sendable: boolean },
) {
  const estimate = data.estimate?.text ?? '';
  return html`<section class="send-controls" data-send-controls data-sendable="${can.sendable ? '1' : '0'}">
${can.sendable ? '' : html`<p class="error" data-unsendable>The saved draft has preflight errors: fix them and save before a test or a send.</p>`}
${
  can.canTest
    ? html`<form method="post" action="/admin/campaigns/${id}/test" class="test-form" data-test-form>
<input type="hidden" name="_csrf" value="${csrf}">
<label>Send a test to <input type="text" name="to" value="${data.editorEmail ?? ''}" placeholder="you@example.com, other@example.com" required size="40"></label>
<button type="submit" data-needs-clean>Send test</button></form>`
    : ''
}
${
  can.canSend
    ? html`<form method="post" action="/admin/campaigns/${id}/send" class="send-form" data-schedule-form data-estimate="${estimate}">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="at" value="">
<p class="estimate"><span data-estimate-text>${estimate}</span>${countedNote(data.estimate)}</p>
<label>Schedule for <input type="datetime-local" name="at_local" step="1" data-at-local></label> <small data-timezone></small>
<label>Canary wave <input type="text" name="canary" inputmode="decimal" size="4" placeholder="e.g. 5%" pattern="\d+(\.\d+)?%?" data-canary></label>
<button type="submit" data-needs-clean data-schedule-button>${status === 'scheduled' ? 'Move schedule / send now' : 'Schedule / send now'}</button></form>
${
  status === 'scheduled' && scheduledAt
    ? html`<p class="schedule">Scheduled for <time datetime="${scheduledAt}" data-local-time>${scheduledAt.slice(0, 19).replace('T', ' ')} UTC</time></p>
<form method="post" action="/admin/campaigns/${id}/unschedule" class="inline" data-action="unschedule"><input type="hidden" name="_csrf" value="${csrf}">
<button type="submit" data-confirm="Call off the scheduled send? The campaign goes back to draft.">Unschedule</button></form>`
    : ''
}`
    : ''
}
</section>`;
}
