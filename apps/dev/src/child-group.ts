import type { ChildExit, ManagedChild } from './managed-child.js';

/** SIGTERM first; whoever has not exited this long after gets SIGKILL. */
export const STOP_GRACE_MS = 3_000;

/** The first child to exit, with how it ended. */
export interface GroupExit {
  readonly child: ManagedChild;
  readonly exit: ChildExit;
}

/**
 * Every process the dev stack started, so that each path out (Ctrl-C, a child dying, a startup error,
 * an exception) stops all of them. If the parent exits without `stopAll()`, the children are killed
 * synchronously from process 'exit' so that none is left listening.
 *
 * @example
 * const group = new ChildGroup();
 * group.add(ManagedChild.spawn('decode-1', process.execPath, args));
 * const first = await group.firstExit;
 * await group.stopAll();
 */
export class ChildGroup {
  readonly #children: ManagedChild[] = [];
  readonly #killAll = (): void => {
    for (const child of this.#children) child.kill();
  };
  #resolveFirst: ((value: GroupExit) => void) | undefined;
  /** Resolves when any child exits, whoever stopped it. */
  readonly firstExit: Promise<GroupExit>;

  constructor() {
    this.firstExit = new Promise((resolve) => {
      this.#resolveFirst = resolve;
    });
    process.on('exit', this.#killAll);
  }

  get children(): readonly ManagedChild[] {
    return this.#children;
  }

  add(child: ManagedChild): ManagedChild {
    this.#children.push(child);
    void child.exited.then((exit) => this.#resolveFirst?.({ child, exit }));
    return child;
  }

  /** Stops every child at once (SIGTERM, SIGKILL after `graceMs`); resolves when all are gone. */
  async stopAll(graceMs: number = STOP_GRACE_MS): Promise<void> {
    await Promise.all(this.#children.map((child) => child.stop(graceMs)));
    process.off('exit', this.#killAll);
  }
}
