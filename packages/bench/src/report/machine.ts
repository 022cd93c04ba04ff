import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import type { MachineInfo } from '../types.js';

/** The first `model name` of /proc/cpuinfo (Linux), else Node's view. */
function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match !== null) return match[1]!.trim();
  } catch {
    // Not Linux.
  }
  return 'unknown';
}

/**
 * What the numbers were measured on: they mean little without it.
 * @example machineInfo().cpus; // 2
 */
export function machineInfo(): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}
