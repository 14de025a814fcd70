/** The issue the send benches deliver: about 20 KB of HTML, like a real LWKD issue after MJML. */
import type { CompiledIssue } from '../src/render/types.js';

export const BENCH_ISSUE: CompiledIssue = {
  version: 1,
  meta: { title: 'Bench issue', date: '2026-11-26', slug: 'bench' },
  subjectTemplate: 'Bench issue for {{name}}',
  htmlTemplate: `<html><body><p>Hello {{name}}</p>${'<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>'.repeat(230)}<a href="{{unsubscribeUrl}}">Unsubscribe</a></body></html>`,
  textTemplate: `Hello {{name}}\n${'Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n'.repeat(100)}Unsubscribe: {{unsubscribeUrl}}\n`,
  preheader: 'Hello',
  warnings: [],
};

/** The sender settings of the bench's worker processes. */
export const BENCH_SENDER = { from: 'Bench <bench@example.com>', publicUrl: 'https://news.example.com', listName: 'Newsletter' };
