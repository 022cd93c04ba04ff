import { MinHeap } from './min-heap.js';

/** Labels shorter than this are compared char by char; longer ones by binary search on startsWith. */
const LINEAR_COMPARE_LIMIT = 32;
/** Eviction frees down to this share of the limit, so it runs once per many inserts, not every one. */
const EVICTION_LOW_WATER = 0.875;

interface Node {
  label: string;
  parent: Node | undefined;
  /** By the first char code of the child's label. */
  children: Map<number, Node> | undefined;
  /** Logical clock of the last insert through this node (LRU order; no wall clock in policies). */
  lastAccess: number;
}

/**
 * An approximate radix tree over prompt text, as SGLang/vllm-router's cache_aware keeps per worker:
 * it remembers which prefixes were sent to that worker (so are likely in its prefix cache), not
 * what the worker really holds. Memory is bounded: at most `maxSize` characters of labels; beyond
 * that, least recently used leaves are evicted during the insert that crossed the limit.
 *
 * @example
 * const tree = new PrefixTree(1_000);
 * tree.insert('You are a helpful assistant. Hi');
 * tree.matchLength('You are a helpful assistant. Bye'); // 29
 */
export class PrefixTree {
  readonly #maxSize: number;
  readonly #root: Node = { label: '', parent: undefined, children: undefined, lastAccess: 0 };
  #size = 0;
  #clock = 0;

  constructor(maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1)
      throw new RangeError(`maxSize must be a positive integer: ${maxSize}`);
    this.#maxSize = maxSize;
  }

  /** Characters held (the sum of all labels): what maxSize bounds. */
  get size(): number {
    return this.#size;
  }

  /** Length of the longest prefix of `text` present in the tree. Does not count as a use. */
  matchLength(text: string): number {
    let node = this.#root;
    let pos = 0;
    while (pos < text.length) {
      const child = node.children?.get(text.charCodeAt(pos));
      if (child === undefined) break;
      const label = child.label;
      if (text.startsWith(label, pos)) {
        pos += label.length;
        node = child;
        continue;
      }
      pos += commonPrefixLength(text, pos, label);
      break;
    }
    return pos;
  }

  /** Records that `text` was sent to this worker, then evicts if the tree grew past its bound. */
  insert(text: string): void {
    // A prompt longer than the whole budget: its head is what later prompts can share.
    const input = text.length > this.#maxSize ? text.slice(0, this.#maxSize) : text;
    const clock = ++this.#clock;
    let node = this.#root;
    node.lastAccess = clock;
    let pos = 0;
    while (pos < input.length) {
      const code = input.charCodeAt(pos);
      node.children ??= new Map();
      let child = node.children.get(code);
      if (child === undefined) {
        // Copied, never a slice: a V8 substring keeps its whole parent (the request body) alive.
        const label = structuredClone(input.slice(pos));
        node.children.set(code, { label, parent: node, children: undefined, lastAccess: clock });
        this.#size += label.length;
        break;
      }
      const label = child.label;
      const common = input.startsWith(label, pos) ? label.length : commonPrefixLength(input, pos, label);
      if (common < label.length) {
        const head: Node = {
          label: structuredClone(label.slice(0, common)),
          parent: node,
          children: undefined,
          lastAccess: clock,
        };
        child.label = structuredClone(label.slice(common));
        child.parent = head;
        head.children = new Map([[child.label.charCodeAt(0), child]]);
        node.children.set(code, head);
        child = head;
      }
      child.lastAccess = clock;
      pos += common;
      node = child;
    }
    if (this.#size > this.#maxSize) this.#evict(Math.floor(this.#maxSize * EVICTION_LOW_WATER));
  }

  /** Removes least recently used leaves (and parents they leave bare) until size <= target. */
  #evict(target: number): void {
    const heap = new MinHeap<Node>((node) => node.lastAccess);
    const stack: Node[] = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop() as Node;
      if (node.children === undefined || node.children.size === 0) {
        if (node !== this.#root) heap.push(node);
      } else {
        for (const child of node.children.values()) stack.push(child);
      }
    }
    while (this.#size > target) {
      const leaf = heap.pop();
      if (leaf === undefined) break;
      const parent = leaf.parent as Node;
      parent.children?.delete(leaf.label.charCodeAt(0));
      this.#size -= leaf.label.length;
      if (parent !== this.#root && parent.children?.size === 0) heap.push(parent);
    }
  }
}

/** Length of the common prefix of `text` from `pos` and `label` (callers know the first char matches). */
function commonPrefixLength(text: string, pos: number, label: string): number {
  const limit = Math.min(label.length, text.length - pos);
  if (limit <= LINEAR_COMPARE_LIMIT) {
    let i = 0;
    while (i < limit && text.charCodeAt(pos + i) === label.charCodeAt(i)) i++;
    return i;
  }
  // startsWith is a native memcmp: O(log n) calls beat an O(n) JS loop on long labels.
  let lo = 0;
  let hi = limit;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (text.startsWith(label.slice(0, mid), pos)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
