import type { Config } from '../config.js';
import type { CompileOptions } from './compile-issue.js';
import { trapLinkFor } from '../events/engagement-class.js';

/**
 * Compile options from the environment contract (SITE_URL, SUBJECT_TEMPLATE, POSTAL_ADDRESS,
 * LIST_NAME, PUBLIC_URL for the hidden trap link), so every caller (CLI render/check/send, API) compiles an issue the same way.
 */
export function compileOptionsFromConfig(config: Config): CompileOptions {
  return {
    siteUrl: config.SITE_URL ?? null,
    subjectTemplate: config.SUBJECT_TEMPLATE,
    postalAddress: config.POSTAL_ADDRESS ?? null,
    listName: config.LIST_NAME,
    trapUrl: trapLinkFor(config.PUBLIC_URL),
  };
}
