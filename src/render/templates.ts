import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Handlebars from 'handlebars';

/** The look lives in emails/ (layout.mjml.hbs, partials/, theme.css, text.hbs). */
export const DEFAULT_TEMPLATES_DIR = resolve(import.meta.dirname, '../../emails');

export interface EmailTemplates {
  layout: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  css: string;
}

const cache = new Map<string, EmailTemplates>();

/** Load and precompile the compile-time templates once per directory. */
export function loadTemplates(dir: string = DEFAULT_TEMPLATES_DIR): EmailTemplates {
  const hit = cache.get(dir);
  if (hit) return hit;
  const hbs = Handlebars.create();
  for (const name of ['header', 'section', 'footer']) {
    hbs.registerPartial(name, readFileSync(join(dir, 'partials', `${name}.mjml.hbs`), 'utf8'));
  }
  const templates: EmailTemplates = {
    layout: hbs.compile(readFileSync(join(dir, 'layout.mjml.hbs'), 'utf8'), { strict: false }),
    text: hbs.compile(readFileSync(join(dir, 'text.hbs'), 'utf8'), { noEscape: true }),
    css: readFileSync(join(dir, 'theme.css'), 'utf8'),
  };
  cache.set(dir, templates);
  return templates;
}
