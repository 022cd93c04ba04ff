// Throughput of canonicalize() and canonicalRequest() against JSON.stringify(JSON.parse(x)) on
// realistic chat bodies of ~1 KB, ~100 KB and ~1 MB (long ASCII messages, some non-ASCII).
// Run after building: pnpm --filter @pd-router/core build && node packages/core/bench/canonicalize-bench.mjs
// Options: --seconds=N (time per body size, default 6), --module=PATH (module to load instead
// of ../dist/index.js, e.g. a scratch build).
import { pathToFileURL } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const seconds = Number(args.seconds ?? 6);
const moduleUrl = args.module
  ? pathToFileURL(args.module).href
  : new URL('../dist/index.js', import.meta.url).href;
const { canonicalize, canonicalRequest } = await import(moduleUrl);

// Deterministic PRNG (mulberry32) so every run benchmarks the same bodies.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by ' +
  'word but not what all were we when your can said there use an each which she do how their if will up ' +
  'function return const value model token prefill decode cache latency request response stream server'
).split(' ');
const RARE = [
  'café',
  'naïve',
  '日本語',
  '中文字符',
  '😀',
  '— dash',
  '“quoted”',
  'Ωmega',
  'tab\there',
  'say "hi"',
  'C:\\path',
];

function sentence(rand) {
  const n = 6 + Math.floor(rand() * 14);
  const words = [];
  for (let i = 0; i < n; i++) {
    words.push(
      rand() < 0.02 ? RARE[Math.floor(rand() * RARE.length)] : WORDS[Math.floor(rand() * WORDS.length)],
    );
  }
  return words.join(' ') + (rand() < 0.15 ? '.\n' : '. ');
}

function message(rand, targetChars) {
  let text = '';
  while (text.length < targetChars) text += sentence(rand);
  return text;
}

function chatBody(targetBytes, seed) {
  const rand = prng(seed);
  const messages = [{ role: 'system', content: message(rand, Math.min(400, targetBytes / 4)) }];
  const body = {
    model: 'meta-llama/Meta-Llama-3.1-8B-Instruct',
    messages,
    max_tokens: 256,
    temperature: 0.7,
    top_p: 0.95,
    stream: false,
    seed: 1234,
  };
  const perMessage = Math.max(200, Math.min(8000, targetBytes / 12));
  let roleIndex = 0;
  while (Buffer.byteLength(JSON.stringify(body)) < targetBytes) {
    messages.push({ role: roleIndex++ % 2 === 0 ? 'user' : 'assistant', content: message(rand, perMessage) });
  }
  return new TextEncoder().encode(JSON.stringify(body));
}

/**
 * Mean CPU ms per call of `fn` (user + system time of this process, GC threads included), running
 * it for about `ms` milliseconds of wall time. CPU time rather than wall time, so that other
 * processes competing for the cores do not count against whichever candidate was running.
 */
function timeFor(fn, ms) {
  const start = performance.now();
  const cpu = process.cpuUsage();
  let runs = 0;
  do {
    for (let k = 0; k < 4; k++) fn();
    runs += 4;
  } while (performance.now() - start < ms);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000 / runs;
}

/**
 * Forces a string built by concatenation (a V8 rope) into one flat string, as writing it to a
 * socket would, so deferred work is not left out; JSON.stringify's result is already flat.
 */
const flat = (s) => s.charCodeAt(s.length >> 1) + s.length;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Interleaves the candidates in ROUNDS short rounds, so a machine whose load changes over time
 * (shared CI boxes) slows all of them alike; reports the median time per call of each.
 */
function compare(fns) {
  const ROUNDS = 7;
  const perRound = (seconds * 1000) / ROUNDS / fns.length;
  for (const fn of fns) timeFor(fn, 50); // warm up (JIT)
  const times = fns.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    fns.forEach((fn, i) => {
      times[i].push(timeFor(fn, perRound));
    });
  }
  return times.map(median);
}

const decoder = new TextDecoder();
const sizes = [
  ['1 KB', 1024],
  ['100 KB', 100 * 1024],
  ['1 MB', 1024 * 1024],
];
const rows = [];
for (const [label, bytes] of sizes) {
  const input = chatBody(bytes, 42);
  const text = decoder.decode(input);
  const check = canonicalize(input);
  if (!check.ok) throw check.error;
  let sink = 0;
  const [jsonBytes, jsonString, canon, both] = compare([
    () => {
      sink += JSON.stringify(JSON.parse(decoder.decode(input))).length;
    },
    () => {
      sink += JSON.stringify(JSON.parse(text)).length;
    },
    () => {
      const r = canonicalize(input);
      sink += r.ok ? flat(r.value) : 0;
    },
    () => {
      const r = canonicalRequest(input);
      sink += r.ok ? flat(r.value.decode) + flat(r.value.prefill) : 0;
    },
  ]);
  if (sink === 0) throw new Error('unreachable');
  const mbps = (ms) => (input.length / 1e6 / (ms / 1000)).toFixed(0);
  rows.push({
    body: `${label} (${input.length} B)`,
    'JSON, bytes in MB/s': mbps(jsonBytes),
    'JSON, string in MB/s': mbps(jsonString),
    'canonicalize MB/s': mbps(canon),
    'canonicalRequest MB/s': mbps(both),
    'ratio vs JSON, bytes in': (jsonBytes / canon).toFixed(2),
    'ratio vs JSON, string in': (jsonString / canon).toFixed(2),
  });
}

const header = Object.keys(rows[0]);
console.log(`node ${process.version}, ${seconds} s per body size, CPU time, median of 7 interleaved rounds`);
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);
for (const row of rows) console.log(`| ${header.map((h) => row[h]).join(' | ')} |`);
