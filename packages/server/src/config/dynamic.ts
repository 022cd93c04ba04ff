import { parseZmqAddress } from '@pd-router/core';
import { parseCidr } from '../discovery/cidr.js';
import { parseLabelRequirement } from '../discovery/label-selector.js';
import type { ConfigIssue } from './config-error.js';
import type { HealthConfig, KubernetesDiscoveryConfig, ZmqDiscoveryConfig } from './types.js';
import type { Locate } from './validate.js';

/** The dynamic-worker part of the config: discovery sources and health, built from the merged values. */
export interface DynamicSettings {
  readonly discovery: ZmqDiscoveryConfig | undefined;
  readonly kubernetes: KubernetesDiscoveryConfig | undefined;
  readonly health: HealthConfig;
  readonly issues: readonly ConfigIssue[];
  readonly warnings: readonly string[];
}

/**
 * Checks what the schema cannot (the discovery address, CIDRs, label syntax, which selectors
 * Kubernetes discovery needs) and groups the flat config keys into the Config's objects. Called
 * only after schema validation, so every value has its type and default.
 */
export function resolveDynamicSettings(
  merged: Readonly<Record<string, unknown>>,
  locate: Locate,
  valid: (key: string) => boolean,
): DynamicSettings {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const at = (key: string, index?: number) => locate(index === undefined ? [key] : [key, index]);
  // Keys the schema already rejected are not looked into again (their values may have any type).
  const list = (key: string): readonly string[] => (valid(key) ? (merged[key] as readonly string[]) : []);

  let discovery: ZmqDiscoveryConfig | undefined;
  const address = valid('vllmDiscoveryAddress')
    ? (merged['vllmDiscoveryAddress'] as string | undefined)
    : undefined;
  const allow = list('discoveryAllow');
  allow.forEach((text, index) => {
    const cidr = parseCidr(text);
    if (!cidr.ok) issues.push({ path: at('discoveryAllow', index), message: cidr.error });
  });
  if (address !== undefined) {
    const bind = parseBindAddress(address);
    if (typeof bind === 'string') issues.push({ path: at('vllmDiscoveryAddress'), message: bind });
    else
      discovery = {
        ...bind,
        ttlMs: merged['discoveryTtlMs'] as number,
        allow,
        ratePerSender: merged['discoveryRateLimit'] as number,
      };
  } else if (allow.length > 0) {
    warnings.push(`${at('discoveryAllow')}: has no effect without --vllm-discovery-address`);
  }

  let kubernetes: KubernetesDiscoveryConfig | undefined;
  const lists = { selector: [], prefillSelector: [], decodeSelector: [] } as Record<
    string,
    readonly string[]
  >;
  for (const key of Object.keys(lists)) {
    const items = list(key);
    lists[key] = items;
    items.forEach((text, index) => {
      const parsed = parseLabelRequirement(text);
      if (!parsed.ok) issues.push({ path: at(key, index), message: parsed.error });
    });
  }
  const prefillSelector = lists['prefillSelector'] as readonly string[];
  const decodeSelector = lists['decodeSelector'] as readonly string[];
  if (merged['serviceDiscovery'] === true) {
    if (prefillSelector.length === 0 && decodeSelector.length === 0) {
      issues.push({
        path: at('serviceDiscovery'),
        message:
          'needs --prefill-selector and/or --decode-selector (KEY=VALUE labels telling prefill and decode pods apart)',
      });
    }
    kubernetes = {
      namespace: merged['serviceDiscoveryNamespace'] as string | undefined,
      selector: lists['selector'] as readonly string[],
      prefillSelector,
      decodeSelector,
      port: merged['serviceDiscoveryPort'] as number,
      kubeconfig: merged['kubeconfig'] as string | undefined,
    };
  } else {
    for (const key of [
      'selector',
      'prefillSelector',
      'decodeSelector',
      'serviceDiscoveryNamespace',
      'kubeconfig',
    ]) {
      const value = merged[key];
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
        warnings.push(`${at(key)}: has no effect without --service-discovery`);
      }
    }
  }

  // vllm-router's flags (seconds) have defaults; pd-router's older ones (ms) are aliases that win
  // when given.
  const ms = (msKey: string, secsKey: string): number =>
    (merged[msKey] as number | undefined) ?? (merged[secsKey] as number) * 1_000;
  const legacyThreshold = merged['circuitFailureThreshold'] as number | undefined;
  const breakerOff = merged['disableCircuitBreaker'] === true || legacyThreshold === 0;
  const health: HealthConfig = {
    checkIntervalMs: ms('healthCheckIntervalMs', 'healthCheckIntervalSecs'),
    checkTimeoutMs: ms('healthCheckTimeoutMs', 'healthCheckTimeoutSecs'),
    checkPath: merged['healthCheckEndpoint'] as string,
    failureThreshold: merged['healthFailureThreshold'] as number,
    successThreshold: merged['healthSuccessThreshold'] as number,
    circuitFailureThreshold: breakerOff ? 0 : (legacyThreshold ?? (merged['cbFailureThreshold'] as number)),
    circuitSuccessThreshold: merged['cbSuccessThreshold'] as number,
    circuitOpenMs: ms('circuitOpenMs', 'cbTimeoutDurationSecs'),
    circuitWindowMs: (merged['cbWindowDurationSecs'] as number) * 1_000,
  };
  return { discovery, kubernetes, health, issues, warnings };
}

/**
 * `HOST:PORT` of the registration ROUTER. The host is what ZMQ binds (an IPv4 address, `*` or
 * `0.0.0.0` for every interface, or a host name); port 0 picks a free port.
 */
function parseBindAddress(text: string): { readonly host: string; readonly port: number } | string {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return `expected HOST:PORT, got "${text}"`;
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) {
    return `"${text}": the port must be 0-65535`;
  }
  if (host !== '*') {
    // Same host rules as a worker's ZMQ address (no scheme, no IPv6); the port is checked above.
    const parsed = parseZmqAddress(`${host}:1`);
    if (!parsed.ok) return `"${text}": ${parsed.error.message.replace(/^invalid ZMQ address "[^"]*": /, '')}`;
  }
  return { host, port: Number(portText) };
}
