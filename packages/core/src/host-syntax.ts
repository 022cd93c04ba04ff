/**
 * Host and port syntax shared by the ZMQ-address and worker-URL parsers (private to core).
 *
 * We accept a deliberately small language: dotted-quad IPv4 and ASCII host names. Anything else
 * (percent-encoding, IDN, IPv4 shorthand like `127.1`, whitespace) is rejected instead of being
 * normalised, because the same text is later put verbatim into `tcp://host:port` by vLLM and into
 * the `Host` and `X-Request-Id` headers by us; a value we would have to rewrite is a value the
 * other side would read differently.
 */

/** RFC 1035 limit on a full domain name in text form. */
const MAX_HOST_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;

const ASCII_DIGITS = /^[0-9]+$/;
const NUMERIC_HOST_PATTERN = /^[0-9.]+$/;
const OCTET_PATTERN = /^(?:0|[1-9][0-9]{0,2})$/;
// `_` is not legal in DNS host names, but it appears in real cluster names (Docker Compose services,
// some Kubernetes setups), and neither ZMQ nor HTTP care; `___` is handled by the ZMQ parser.
const LABEL_PATTERN = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;

/**
 * Parses a decimal TCP port, 1-65535, ASCII digits, no sign and no leading zero.
 * Leading zeros are refused because `08000` would have to be rewritten as `8000` and the two
 * spellings would then differ between our configuration and the request id.
 * @returns the port, or a sentence saying what is wrong.
 */
export function parsePort(text: string): number | string {
  if (text === '') return 'the port is empty';
  if (!ASCII_DIGITS.test(text)) return `port "${text}" is not a decimal number`;
  if (text.length > 1 && text.startsWith('0')) return `port "${text}" has a leading zero`;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : `port ${text} is out of range (1-65535)`;
}

/**
 * Checks a host name or dotted-quad IPv4 address (no brackets, no IPv6).
 * @returns undefined when valid, else a sentence saying what is wrong.
 */
export function checkHost(host: string): string | undefined {
  if (host === '') return 'the host is empty';
  if (host.length > MAX_HOST_LENGTH) return `the host is longer than ${MAX_HOST_LENGTH} characters`;
  if (NUMERIC_HOST_PATTERN.test(host)) {
    const octets = host.split('.');
    if (octets.length !== 4 || !octets.every((o) => OCTET_PATTERN.test(o) && Number(o) <= 255)) {
      return `"${host}" is not a dotted-quad IPv4 address (four numbers 0-255, no leading zeros)`;
    }
    return undefined;
  }
  for (const label of host.split('.')) {
    if (label.length > MAX_LABEL_LENGTH) return `host label "${label}" is longer than ${MAX_LABEL_LENGTH}`;
    if (!LABEL_PATTERN.test(label)) {
      return label === ''
        ? `host "${host}" has an empty label (leading, trailing or double dot)`
        : `host "${host}" may only contain letters, digits, '-', '_' and '.'`;
    }
  }
  return undefined;
}
