/**
 * Performance profiles of the mock's model (`--model-profile`). Every number says where it comes
 * from; "estimate" marks the ones no source gives directly. docs/routing.md explains the model.
 */

/** One GPU instance of one model: what the step-time formulas and the KV capacity derive from. */
export interface PerfProfile {
  readonly name: string;
  /** Parameters of the model (weights read once per step; 2 FLOPs per parameter per token). */
  readonly params: number;
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Hidden size (attention FLOPs per query-key pair: 4 x layers x hidden). */
  readonly hidden: number;
  /** Bytes per KV element (bf16: 2). */
  readonly kvElementBytes: number;
  readonly weightBytes: number;
  /** GPU memory in bytes, and vLLM's --gpu-memory-utilization default. */
  readonly gpuMemoryBytes: number;
  readonly gpuMemoryUtilization: number;
  /** Activations, CUDA graphs and allocator slack vLLM keeps out of the KV cache. */
  readonly nonKvOverheadBytes: number;
  /** Dense bf16 tensor throughput (FLOP/s) and HBM bandwidth (bytes/s) of the card. */
  readonly peakFlops: number;
  readonly hbmBytesPerS: number;
  /** Fractions of peak reached by the linear layers, attention, and KV reads. */
  readonly linearMfu: number;
  readonly attentionMfu: number;
  readonly hbmEfficiency: number;
  /** CPU side of a step (scheduling, sampling, detokenizing). */
  readonly stepOverheadMs: number;
  /** vLLM's block size (tokens per KV block) and its scheduler limits. */
  readonly blockSize: number;
  readonly maxNumBatchedTokens: number;
  readonly maxNumSeqs: number;
  readonly maxModelLen: number;
  /** KV transfer between instances: usable bandwidth (bytes/s) and fixed set-up time. */
  readonly transferBytesPerS: number;
  readonly transferSetupMs: number;
}

/**
 * Llama-3.1-8B (bf16) on one H100 SXM 80 GB.
 *
 * - Shape (params 8.03e9, 32 layers, 8 KV heads, head dim 128, hidden 4096, 131,072 context):
 *   meta-llama/Llama-3.1-8B-Instruct config.json. KV per token = 2 x 32 x 8 x 128 x 2 B = 128 KiB.
 * - 989.4 TFLOP/s dense bf16 and 3.35 TB/s HBM3: NVIDIA H100 SXM datasheet.
 * - 0.9 memory utilization, block size 16, 256 sequences: vLLM engine-argument defaults;
 *   8,192 batched tokens: vLLM's chunked-prefill default for the OpenAI server.
 * - Linear MFU 0.6, attention 0.4, HBM efficiency 0.8, 1.5 ms CPU per step, 3 GB outside the KV
 *   cache: estimates. With them one prefill does about 26k prompt tokens/s at 16k-token prompts and
 *   18k/s at 40k (the quadratic attention term), in line with the roughly 20k tokens/s per H100
 *   that the issue's sketch and DistServe's (OSDI'24) quadratic prefill latency model suggest, and a
 *   lone decode step takes about 6.3 ms (weights read from HBM: 16 GB / 3.35 TB/s = 4.8 ms, plus
 *   overhead), the memory-bound token phase Splitwise (ISCA'24) measures.
 * - KV transfer: one 400 Gb/s RDMA NIC per GPU (Mooncake FAST'25 runs 8 x 400 Gbps per 8-GPU
 *   node) at 80% = 40 GB/s, plus 1 ms set-up: estimates.
 */
export const LLAMA_31_8B_H100: PerfProfile = Object.freeze({
  name: 'llama-3.1-8b-h100',
  params: 8.03e9,
  layers: 32,
  kvHeads: 8,
  headDim: 128,
  hidden: 4096,
  kvElementBytes: 2,
  weightBytes: 16.06e9,
  gpuMemoryBytes: 80 * 2 ** 30,
  gpuMemoryUtilization: 0.9,
  nonKvOverheadBytes: 3e9,
  peakFlops: 989.4e12,
  hbmBytesPerS: 3.35e12,
  linearMfu: 0.6,
  attentionMfu: 0.4,
  hbmEfficiency: 0.8,
  stepOverheadMs: 1.5,
  blockSize: 16,
  maxNumBatchedTokens: 8192,
  maxNumSeqs: 256,
  maxModelLen: 131_072,
  transferBytesPerS: 40e9,
  transferSetupMs: 1,
});

export const PERF_PROFILES: Readonly<Record<string, PerfProfile>> = Object.freeze({
  [LLAMA_31_8B_H100.name]: LLAMA_31_8B_H100,
});
export const PERF_PROFILE_NAMES: readonly string[] = Object.keys(PERF_PROFILES);

/** Bytes of KV cache one token occupies (K and V, every layer). */
export function kvBytesPerToken(p: PerfProfile): number {
  return 2 * p.layers * p.kvHeads * p.headDim * p.kvElementBytes;
}

/** Tokens the KV cache holds: what vLLM leaves after weights and overhead, in whole blocks. */
export function kvCapacityTokens(p: PerfProfile): number {
  const free = p.gpuMemoryBytes * p.gpuMemoryUtilization - p.weightBytes - p.nonKvOverheadBytes;
  const blocks = Math.floor(free / kvBytesPerToken(p) / p.blockSize);
  return Math.max(blocks, 1) * p.blockSize;
}

/** The formulas of one step, precomputed from a profile (milliseconds). */
export interface StepCosts {
  /** Floor of any step: the weights read once from HBM. */
  readonly weightsReadMs: number;
  /** Linear layers, per token in the batch (prefill tokens + one per decoding sequence). */
  readonly perTokenMs: number;
  /** Attention of a prefill chunk, per (query, key) pair. */
  readonly perPairMs: number;
  /** Attention of a decoding sequence, per token of context read from the KV cache. */
  readonly perContextTokenMs: number;
  readonly overheadMs: number;
  /** KV transfer per token, and fixed. */
  readonly transferPerTokenMs: number;
  readonly transferSetupMs: number;
}

export function stepCosts(p: PerfProfile): StepCosts {
  return {
    weightsReadMs: (p.weightBytes / p.hbmBytesPerS) * 1000,
    perTokenMs: ((2 * p.params) / (p.peakFlops * p.linearMfu)) * 1000,
    perPairMs: ((4 * p.layers * p.hidden) / (p.peakFlops * p.attentionMfu)) * 1000,
    perContextTokenMs: (kvBytesPerToken(p) / (p.hbmBytesPerS * p.hbmEfficiency)) * 1000,
    overheadMs: p.stepOverheadMs,
    transferPerTokenMs: (kvBytesPerToken(p) / p.transferBytesPerS) * 1000,
    transferSetupMs: p.transferSetupMs,
  };
}

/** What one step computes: prefill chunks and decoding sequences. */
export interface StepWork {
  /** Prompt tokens computed in this step (all chunks). */
  readonly prefillTokens: number;
  /** Sum over chunks of chunk x (tokens before it + chunk / 2): causal attention pairs. */
  readonly prefillPairs: number;
  readonly decodeSeqs: number;
  /** Sum of the decoding sequences' context lengths. */
  readonly decodeContext: number;
}

/**
 * Time of one step: CPU overhead + max(weights read, linear compute) + prefill attention + decode
 * KV reads. Linear work and the weight read overlap (a small batch is memory-bound, a large one
 * compute-bound); attention adds on top.
 */
export function stepMs(c: StepCosts, w: StepWork): number {
  const tokens = w.prefillTokens + w.decodeSeqs;
  if (tokens === 0) return 0;
  return (
    c.overheadMs +
    Math.max(c.weightsReadMs, tokens * c.perTokenMs) +
    w.prefillPairs * c.perPairMs +
    w.decodeContext * c.perContextTokenMs
  );
}

/** Causal attention pairs of a chunk of `chunk` tokens after `before` computed ones. */
export function chunkPairs(before: number, chunk: number): number {
  return chunk * (before + chunk / 2);
}

/** KV transfer time of `tokens` tokens (0 tokens: nothing moves, no set-up either). */
export function transferMs(c: StepCosts, tokens: number): number {
  return tokens <= 0 ? 0 : c.transferSetupMs + tokens * c.transferPerTokenMs;
}
