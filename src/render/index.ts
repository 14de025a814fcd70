export { compileIssue, compileIssueDetailed, IssueCompileError, GMAIL_CLIP_BYTES, htmlToText } from './compile-issue.js';
export type { CompileOptions, CompileResult } from './compile-issue.js';
export { prepareMessages } from './prepare-messages.js';
export { checkIssue, checkIssueFile } from './check-issue.js';
export { qpEncode, encodeWords, formatAddress, stripControl } from './mime.js';
export { escapeTemplateText } from './template-text.js';
export type { CompiledIssue, Diagnostic, Recipient, MessageOptions, BuiltMessage, MessageFactory } from './types.js';
