/** A Dockerfile instruction, continuation lines joined (`RUN a \` + `b` → `RUN a b`). */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  /** The FROM image after `ARG` defaults are substituted. */
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface ParsedDockerfile {
  readonly args: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
}

/**
 * Enough of the Dockerfile grammar to check an image's structure without Docker: comments, line
 * continuations, global `ARG NAME=default` substituted into `FROM`, stages and their names.
 */
export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (pending !== '' && line.trim().startsWith('#')) return;
    if (pending === '') start = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      return;
    }
    const full = (pending + line.trim()).trim();
    pending = '';
    const space = full.search(/\s/);
    instructions.push({
      keyword: (space < 0 ? full : full.slice(0, space)).toUpperCase(),
      args: space < 0 ? '' : full.slice(space + 1).trim(),
      line: start,
    });
  });
  const args = new Map<string, string>();
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => args.get(arg) ?? '');
      stages.push({ image: resolved, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [arg = '', value = ''] = instruction.args.split('=');
      args.set(arg, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The JSON array of an exec-form instruction (`CMD ["a", "b"]`), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const json = args.slice(args.indexOf('['));
  if (!args.trimStart().startsWith('[') && !/^(--\S+\s+)*CMD\s+\[/.test(args)) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}
