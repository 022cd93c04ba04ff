import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ConfigIssue } from './config-error.js';
import { OPTIONS } from './options.js';
import { configSchema } from './schema.js';
import { closestName } from './suggest.js';

/** A location inside the merged config object: keys and array indices. */
export type ConfigPath = readonly (string | number)[];

/** Turns a config location into the path the user should look at (a flag or a file key). */
export type Locate = (path: ConfigPath) => string;

const SECRET_KEYS = new Set(
  OPTIONS.filter((o) => o.secret === true && o.key !== undefined).map((o) => o.key),
);

let validator: ValidateFunction | undefined;

/** Compiled once per process: ajv code generation costs milliseconds, and the schema never changes. */
function getValidator(): ValidateFunction {
  if (validator === undefined) {
    const ajv = new Ajv({
      allErrors: true,
      useDefaults: true,
      verbose: true,
      strict: true,
      allowUnionTypes: true,
    });
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
  for (const error of resolveAnyOf(validate.errors ?? [])) {
    // "must match then schema" only repeats the `required` error reported beside it.
    if (error.keyword === 'if') continue;
    const path = pathOf(error);
    const top = path[0] ?? (error.keyword === 'required' ? String(error.params['missingProperty']) : '');
    invalidKeys.add(String(top));
    if (skipKeys.has(dottedKey(path)) || (path.length === 0 && skipKeys.has(String(top)))) continue;
    issues.push(describe(error, path, locate));
  }
  return { issues, invalidKeys };
}

/**
 * ajv reports every branch of an `anyOf` (string worker spec, or object worker spec). Keep only
 * the errors of the branch whose type matches the value, which are the ones that make sense.
 */
function resolveAnyOf(errors: readonly ErrorObject[]): ErrorObject[] {
  let kept = [...errors];
  for (const error of errors) {
    if (error.keyword !== 'anyOf') continue;
    const branches =
      (error.parentSchema as { anyOf?: readonly { type?: unknown }[] } | undefined)?.anyOf ?? [];
    const index = branches.findIndex((branch) => typeMatches(branch.type, error.data));
    const prefix = `${error.schemaPath}/`;
    const inside = (path: string) => path === error.instancePath || path.startsWith(`${error.instancePath}/`);
    kept = kept.filter((other) => {
      if (other === error) return index === -1;
      if (!other.schemaPath.startsWith(prefix) || !inside(other.instancePath)) return true;
      return index !== -1 && other.schemaPath.startsWith(`${prefix}${index}/`);
    });
  }
  return kept;
}

function typeMatches(type: unknown, value: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => {
    if (t === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
    if (t === 'array') return Array.isArray(value);
    if (t === 'null') return value === null;
    if (t === 'integer') return Number.isInteger(value);
    return typeof value === t;
  });
}

function pathOf(error: ErrorObject): (string | number)[] {
  if (error.instancePath === '') return [];
  return error.instancePath
    .slice(1)
    .split('/')
    .map((segment) => {
      const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
      return /^\d+$/.test(key) ? Number(key) : key;
    });
}

/** `cacheAware.cacheThreshold` for `['cacheAware', 'cacheThreshold', ...]`: option keys are dotted. */
function dottedKey(path: ConfigPath): string {
  const keys: string[] = [];
  for (const segment of path) {
    if (typeof segment === 'number') break;
    keys.push(segment);
  }
  return keys.join('.');
}

function describe(error: ErrorObject, path: ConfigPath, locate: Locate): ConfigIssue {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params['missingProperty']);
      if (path.length === 0 && (missing === 'prefill' || missing === 'decode')) {
        return {
          path: `--${missing}`,
          message: `required: give at least one ${missing} worker (--${missing} URL[:zmq://HOST:PORT], or "${missing}" in --config), or discover workers (--vllm-discovery-address, --service-discovery)`,
        };
      }
      return { path: locate([...path, missing]), message: 'required' };
    }
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys(
        (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      const suggestion = closestName(key, known);
      const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
      return { path: locate([...path, key]), message: `unknown key${hint}` };
    }
    case 'anyOf':
      return {
        path: locate(path),
        message: `must be a worker URL string or an object {url, bootstrapPort}${got(error, path)}`,
      };
    case 'enum': {
      const allowed = (params['allowedValues'] as readonly unknown[]).join(', ');
      return { path: locate(path), message: `must be one of: ${allowed}${got(error, path)}` };
    }
    case 'type':
      return {
        path: locate(path),
        message: `must be ${String(params['type']).replace(',', ' or ')}${got(error, path)}`,
      };
    case 'minItems':
      return {
        path: locate(path),
        message: params['limit'] === 1 ? 'must list at least one worker' : (error.message ?? 'invalid'),
      };
    case 'minLength':
      return { path: locate(path), message: 'must not be empty' };
    default:
      return { path: locate(path), message: `${error.message ?? 'invalid'}${got(error, path)}` };
  }
}

/** `, got 'x'` — never for secrets, which must not reach logs. */
function got(error: ErrorObject, path: ConfigPath): string {
  if (SECRET_KEYS.has(dottedKey(path))) return '';
  const value: unknown = error.data;
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? String(value);
  return ` (got ${text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}
