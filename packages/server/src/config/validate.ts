import { parseZmqAddress } from '@pd-router/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseCidr } from '../discovery/cidr.js';
import { parseLabelRequirement } from '../discovery/label-selector.js';
import type { ConfigIssue } from './config-error.js';
import { movedKey, OPTION_BY_KEY } from './flags.js';
import { configSchema } from './schema.js';
import { closestName } from './suggest.js';

/** A location inside the merged config object: keys and array indices. */
export type ConfigPath = readonly (string | number)[];

/** Turns a config location into the path the user should look at (a flag or a file key). */
export type Locate = (path: ConfigPath) => string;

/**
 * `HOST:PORT` of the registration ROUTER. The host is what ZMQ binds (an IPv4 address, `*` or
 * `0.0.0.0` for every interface, or a host name); port 0 picks a free port.
 */
export function parseBindAddress(text: string): { readonly host: string; readonly port: number } | string {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return `expected HOST:PORT, got "${text}"`;
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) return `"${text}": the port must be 0-65535`;
  // Same host rules as a worker's ZMQ address (no scheme, no IPv6); the port is checked above.
  const parsed = host === '*' ? undefined : parseZmqAddress(`${host}:1`);
  if (parsed?.ok === false) {
    return `"${text}": ${parsed.error.message.replace(/^invalid ZMQ address "[^"]*": /, '')}`;
  }
  return { host, port: Number(portText) };
}

const problem = <T>(result: { ok: true; value: T } | { ok: false; error: string }) =>
  result.ok ? undefined : result.error;

/** The schema's string formats (CIDR, host:port, label selector): what is wrong with a value, or undefined. */
const FORMATS: Readonly<Record<string, (text: string) => string | undefined>> = {
  cidr: (text) => problem(parseCidr(text)),
  label: (text) => problem(parseLabelRequirement(text)),
  'host-port': (text) => {
    const address = parseBindAddress(text);
    return typeof address === 'string' ? address : undefined;
  },
};

let validator: ValidateFunction | undefined;

/** Compiled once per process: ajv code generation costs milliseconds, and the schema never changes. */
function getValidator(): ValidateFunction {
  if (validator === undefined) {
    const options = {
      allErrors: true,
      useDefaults: true,
      verbose: true,
      strict: true,
      allowUnionTypes: true,
    };
    const ajv = new Ajv(options);
    ajv.addKeyword('x-cli');
    for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, (text) => !check(text));
    validator = ajv.compile(configSchema);
  }
  return validator;
}

/**
 * Validates `data` (mutated: ajv fills in the defaults) against the config schema and returns one
 * issue per problem, worded for people. Problems under `skipKeys` were already reported by the
 * argv parser and are dropped.
 */
export function validateConfigObject(
  data: Record<string, unknown>,
  locate: Locate,
  skipKeys: ReadonlySet<string> = new Set(),
): { readonly issues: ConfigIssue[]; readonly invalidKeys: ReadonlySet<string> } {
  const validate = getValidator();
  const issues: ConfigIssue[] = [];
  const invalidKeys = new Set<string>();
  if (validate(data)) return { issues, invalidKeys };
  for (const error of validate.errors ?? []) {
    // "must match then schema" only repeats the `required` error reported beside it.
    if (error.keyword === 'if') continue;
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((segment) => {
        const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
        return /^\d+$/.test(key) ? Number(key) : key;
      });
    const top = path[0] ?? (error.keyword === 'required' ? String(error.params['missingProperty']) : '');
    invalidKeys.add(String(top));
    if (skipKeys.has(dottedKey(path)) || (path.length === 0 && skipKeys.has(String(top)))) continue;
    issues.push(describe(error, path, locate));
  }
  return { issues, invalidKeys };
}

/** `cacheAware.cacheThreshold` for `['cacheAware', 'cacheThreshold', ...]`: option keys are dotted. */
function dottedKey(path: ConfigPath): string {
  const end = path.findIndex((segment) => typeof segment === 'number');
  return (end === -1 ? path : path.slice(0, end)).join('.');
}

function describe(error: ErrorObject, path: ConfigPath, locate: Locate): ConfigIssue {
  const params = error.params as Record<string, unknown>;
  const missing = String(params['missingProperty']);
  if (error.keyword === 'required' && path.length === 0 && (missing === 'prefill' || missing === 'decode')) {
    return {
      path: `--${missing}`,
      message: `required: give at least one ${missing} worker (--${missing} URL[:zmq://HOST:PORT], or "${missing}" in --config), or discover workers (--vllm-discovery-address, --service-discovery)`,
    };
  }
  if (error.keyword === 'required') return { path: locate([...path, missing]), message: 'required' };
  if (error.keyword === 'additionalProperties') {
    const key = String(params['additionalProperty']);
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const suggestion = closestName(key, known) ?? (path.length === 0 ? movedKey(key) : undefined);
    const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
    return { path: locate([...path, key]), message: `unknown key${hint}` };
  }
  return { path: locate(path), message: message(error, path) };
}

function message(error: ErrorObject, path: ConfigPath): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'enum': {
      const refused = OPTION_BY_KEY.get(dottedKey(path))?.refusedValues?.[String(error.data)];
      if (refused !== undefined) return `${String(error.data)}: ${refused}`;
      return `must be one of: ${(params['allowedValues'] as readonly unknown[]).join(', ')}${got(error, path)}`;
    }
    case 'type':
      if (String(params['type']) === 'string,object') {
        return `must be a worker URL string or an object {url, bootstrapPort}${got(error, path)}`;
      }
      return `must be ${String(params['type']).replace(',', ' or ')}${got(error, path)}`;
    case 'minItems':
      return params['limit'] === 1 ? 'must list at least one worker' : (error.message ?? 'invalid');
    case 'minLength':
      return 'must not be empty';
    case 'format':
      return FORMATS[String(params['format'])]?.(String(error.data)) ?? 'invalid';
    default:
      return `${error.message ?? 'invalid'}${got(error, path)}`;
  }
}

/** `, got 'x'` — never for secrets, which must not reach logs. */
function got(error: ErrorObject, path: ConfigPath): string {
  if (OPTION_BY_KEY.get(dottedKey(path))?.secret || error.data === undefined) return '';
  const text = JSON.stringify(error.data) ?? String(error.data);
  return ` (got ${text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}
