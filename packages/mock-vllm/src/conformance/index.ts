export { rawRequestFromCapture } from './capture-request.js';
export type { ExchangeOptions, ExchangeOrder, ExchangeVerdict } from './check-exchange.js';
export { checkExchange } from './check-exchange.js';
export type { ConformanceChecker } from './checker.js';
export { createConformanceChecker } from './checker.js';
export { compareRequest } from './compare-request.js';
export type { FixturesErrorCode } from './fixtures-error.js';
export { FixturesError } from './fixtures-error.js';
export { formatDiff } from './format-diff.js';
export type { GoldenAnswer } from './golden-answer.js';
export { goldenPrefillAnswer } from './golden-answer.js';
export { loadGoldenCases } from './load-golden.js';
export type {
  Check,
  CheckContext,
  CompareOptions,
  FixtureKind,
  GoldenCase,
  GoldenClientRequest,
  GoldenExchange,
  GoldenHttpResponse,
  GoldenRound,
  GoldenTopology,
  HeaderPair,
  RawRequest,
  Role,
  Verdict,
} from './types.js';
