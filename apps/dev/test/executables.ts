import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The file a shell would run for `name`: the first executable regular file named so in `path`'s
 * directories, or undefined. Looked up without a shell, which a machine need not have.
 *
 * @example
 * findExecutable('curl'); // '/usr/bin/curl', or undefined on a machine without curl
 */
export function findExecutable(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // Not there, or not executable: look further along PATH, as a shell does.
    }
  }
  return undefined;
}
