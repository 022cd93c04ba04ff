/** Two lower-case hex digits per byte value, built once. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * `str(uuid.uuid4())` from 16 random bytes: lower-case hex, 8-4-4-4-12, version nibble 4 and
 * variant bits 10 set as RFC 9562 says (what vLLM's NIXL toy proxy sends as X-Request-Id).
 * The bytes come from the router's pooled CSPRNG buffer; they are read, never modified.
 *
 * @example uuid4(new Uint8Array(16)) // '00000000-0000-4000-8000-000000000000'
 */
export function uuid4(random16: Uint8Array): string {
  const b = (i: number): string => HEX[random16[i] ?? 0] as string;
  const version = HEX[((random16[6] ?? 0) & 0x0f) | 0x40] as string;
  const variant = HEX[((random16[8] ?? 0) & 0x3f) | 0x80] as string;
  return (
    b(0) +
    b(1) +
    b(2) +
    b(3) +
    '-' +
    b(4) +
    b(5) +
    '-' +
    version +
    b(7) +
    '-' +
    variant +
    b(9) +
    '-' +
    b(10) +
    b(11) +
    b(12) +
    b(13) +
    b(14) +
    b(15)
  );
}
