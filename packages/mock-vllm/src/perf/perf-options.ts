import { kvCapacityTokens, PERF_PROFILE_NAMES, PERF_PROFILES, type PerfProfile } from './profile.js';

/** The performance model's settings after defaults. */
export interface ResolvedPerf {
  readonly profile: PerfProfile;
  readonly timeScale: number;
  readonly kvCacheTokens: number;
}

interface PerfInput {
  readonly modelProfile?: string;
  readonly timeScale?: number;
  readonly kvCacheTokens?: number;
}

/** Checks the performance options, pushing problems to `issues`; undefined without a profile. */
export function resolvePerf(o: PerfInput, issues: string[]): ResolvedPerf | undefined {
  if (o.modelProfile === undefined) {
    if (o.timeScale !== undefined || o.kvCacheTokens !== undefined)
      issues.push('timeScale/kvCacheTokens: need modelProfile');
    return undefined;
  }
  const profile = PERF_PROFILES[o.modelProfile];
  if (profile === undefined) {
    issues.push(`modelProfile: must be one of ${PERF_PROFILE_NAMES.join(', ')}`);
    return undefined;
  }
  const timeScale = o.timeScale ?? 1;
  if (!Number.isFinite(timeScale) || timeScale <= 0) issues.push('timeScale: must be a number > 0');
  const kvCacheTokens = o.kvCacheTokens ?? kvCapacityTokens(profile);
  if (!Number.isInteger(kvCacheTokens) || kvCacheTokens < profile.blockSize)
    issues.push(`kvCacheTokens: must be an integer >= ${profile.blockSize}`);
  return { profile, timeScale, kvCacheTokens };
}
