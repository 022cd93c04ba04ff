const PINO_LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields every pino line has that say nothing to someone watching a dev terminal. */
const NOISE = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/**
 * One line of a child's output as the dev terminal shows it: prefixed with the process name, and a
 * pino JSON line made readable (`[pd-router] INFO request completed {"reqId":…}`). Other lines pass as they are.
 *
 * @example
 * formatLogLine('pd-router', '{"level":30,"time":1,"msg":"listening"}') // '[pd-router] INFO listening'
 */
export function formatLogLine(name: string, line: string): string {
  const prefix = `[${name}]`;
  if (!line.startsWith('{')) return `${prefix} ${line}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return `${prefix} ${line}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `${prefix} ${line}`;
  const record = parsed as Record<string, unknown>;
  const level =
    typeof record['level'] === 'number' ? (PINO_LEVELS[record['level']] ?? String(record['level'])) : '';
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  const rest = Object.fromEntries(Object.entries(record).filter(([key]) => !NOISE.has(key)));
  const extra = Object.keys(rest).length === 0 ? '' : ` ${JSON.stringify(rest)}`;
  return [prefix, level, msg].filter((part) => part !== '').join(' ') + extra;
}
