export { parseIssue, parseIssueFile, decodeUtf8, MAX_ISSUE_BYTES } from './parse-issue.js';
export { parseFrontMatter, parseJekyllDate } from './front-matter.js';
export { resolveUrl, isDeliverableUrl } from './links.js';
export { analyzeMarkdown, markdown } from './markdown.js';
export type { Issue, IssueLink, IssueSection, ParseOptions } from './types.js';
