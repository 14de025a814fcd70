import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { InputError } from '../errors.js';
import { prepareMessages } from '../render/prepare-messages.js';
import type { CompiledIssue } from '../render/types.js';
import { compileCampaignIssue, storedSubject, withSubject } from './campaign-issue.js';

const issue = (title: string) => `---\ntitle: '${title}'\ndate: 2026-11-26\nslug: week-1\n---\n\n## News\n\nHello [world](https://example.org/).\n`;
const config = loadConfig({});

/** The Subject header a subscriber gets (decoded). */
function receivedSubject(compiled: CompiledIssue): string {
  const options = { from: 'News <news@example.com>', campaignId: 1, listId: 'News <list-1.example.com>' };
  return prepareMessages(compiled, options).build({ subscriberId: 1, email: 'reader@example.com', name: 'Reader', unsubscribeUrl: 'https://example.com/u/t' }).subject;
}

describe('compileCampaignIssue', () => {
  it('stores the title as written — braces and backslashes included — and that is the subject mailed', async () => {
    const title = 'Week {1} \\ {{name}} }}{{';
    const c = await compileCampaignIssue({ markdown: issue(title), file: 'week.md' }, config);
    expect(c.subject).toBe(title);
    expect(c.title).toBe(title);
    expect(receivedSubject(c.compiled)).toBe(c.subject);
  });

  it('a subject override replaces the compiled subject template, literally', async () => {
    const subject = 'Sale {50%} \\o/ {{email}} {{{name}}}';
    const c = await compileCampaignIssue({ markdown: issue('Week 2'), file: 'week.md', subject }, config);
    expect(c.subject).toBe(subject);
    expect(receivedSubject(c.compiled)).toBe(subject);
    expect(storedSubject(withSubject(c.compiled, '  two\tspaces  '))).toBe('two spaces');
  });

  it('SUBJECT_TEMPLATE applies; when it renders empty the title is the subject in the store and in the mails', async () => {
    const templated = await compileCampaignIssue({ markdown: issue('Week {3}'), file: 'week.md' }, loadConfig({ SUBJECT_TEMPLATE: '[{{slug}}] {{title}}' }));
    expect(templated.subject).toBe('[week-1] Week {3}');
    expect(receivedSubject(templated.compiled)).toBe(templated.subject);
    const empty = await compileCampaignIssue({ markdown: issue('Week {4}'), file: 'week.md' }, loadConfig({ SUBJECT_TEMPLATE: '{{nothing}}' }));
    expect(empty.subject).toBe('Week {4}');
    expect(receivedSubject(empty.compiled)).toBe('Week {4}');
  });

  it('errors name the file (or the field the caller names) and the line', async () => {
    const bad = '---\ntitle: Broken\n---\n\nSee [nothing]().\n';
    const fromFile = compileCampaignIssue({ markdown: bad, file: 'issues/broken.md' }, config);
    await expect(fromFile).rejects.toBeInstanceOf(InputError);
    await expect(fromFile).rejects.toThrow('issues/broken.md: line 5: empty link');
    const fromApi = compileCampaignIssue({ markdown: 'no front matter', file: 'issue.md', errorLocation: 'markdown' }, config);
    await expect(fromApi).rejects.toMatchObject({ location: 'markdown', message: expect.stringContaining('line 1: no front matter') });
  });
});
