import { describe, expect, it } from 'vitest';
import { schemaProperty } from '../src/config/describe-option.js';
import { configurationMarkdown } from '../src/config/docs.js';
import { helpText } from '../src/config/help.js';
import { OPTIONS } from '../src/config/options.js';
import { configSchema } from '../src/config/schema.js';

/** Every dotted key of the schema's leaves (`cacheAware.cacheThreshold`), except `$schema`. */
function schemaKeys(properties: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(properties).flatMap(([key, value]) => {
    if (key === '$schema') return [];
    const nested = (value as { properties?: Record<string, unknown> }).properties;
    return nested === undefined ? [`${prefix}${key}`] : schemaKeys(nested, `${prefix}${key}.`);
  });
}

describe('the option table, the schema, --help and the docs agree', () => {
  const help = helpText('0.0.0-test');
  const docs = configurationMarkdown();

  it('every flag with a config key maps to a schema property with a description', () => {
    for (const option of OPTIONS.filter((o) => o.key !== undefined)) {
      const property = schemaProperty(option.key as string);
      expect(property, option.flag).toBeDefined();
      expect(property?.description, option.flag).toBeTruthy();
    }
  });

  it('every schema property can be set by a flag', () => {
    const keyed = new Set(OPTIONS.map((o) => o.key));
    for (const key of schemaKeys(configSchema.properties)) expect(keyed.has(key), key).toBe(true);
  });

  it('every flag, and the default of every defaulted key, appears in --help and in the docs', () => {
    for (const option of OPTIONS) {
      expect(help).toContain(`  ${option.flag}`);
      expect(docs).toContain(`\`${option.flag}`);
      const fallback = option.key === undefined ? undefined : schemaProperty(option.key)?.default;
      if (typeof fallback === 'number' || typeof fallback === 'string') {
        expect(help, option.flag).toContain(`default: ${fallback}`);
      }
    }
  });

  it('every option without a schema key describes itself', () => {
    for (const option of OPTIONS.filter((o) => o.key === undefined))
      expect(option.description, option.flag).toBeTruthy();
  });
});
