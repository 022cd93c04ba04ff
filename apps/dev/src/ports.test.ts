import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DevError } from './errors.js';
import { assertPortsFree, fixedPorts, pickFreePort, planInstances, probePort } from './ports.js';

describe('planInstances', () => {
  it('puts prefills first, then decodes, on consecutive ports with KV ports 1000 above', () => {
    expect(planInstances({ prefillCount: 2, decodeCount: 1, basePort: 20_001 })).toEqual([
      { name: 'prefill-1', role: 'prefill', port: 20_001, kvPort: 21_001 },
      { name: 'prefill-2', role: 'prefill', port: 20_002, kvPort: 21_002 },
      { name: 'decode-1', role: 'decode', port: 20_003, kvPort: 21_003 },
    ]);
  });

  it('leaves every port to the instances with base port 0', () => {
    expect(
      planInstances({ prefillCount: 1, decodeCount: 1, basePort: 0 }).map((p) => [p.port, p.kvPort]),
    ).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});

describe('fixedPorts', () => {
  it('names every non-zero port', () => {
    const plans = planInstances({ prefillCount: 1, decodeCount: 1, basePort: 20_001 });
    expect(fixedPorts(10_001, plans)).toEqual([
      { port: 10_001, label: 'pd-router' },
      { port: 20_001, label: 'prefill-1 HTTP' },
      { port: 21_001, label: 'prefill-1 KV' },
      { port: 20_002, label: 'decode-1 HTTP' },
      { port: 21_002, label: 'decode-1 KV' },
    ]);
    expect(fixedPorts(0, planInstances({ prefillCount: 1, decodeCount: 1, basePort: 0 }))).toEqual([]);
  });
});

describe('assertPortsFree', () => {
  it('passes for free ports and names every busy or doubly planned one', async () => {
    const free = await pickFreePort();
    await expect(assertPortsFree([{ port: free, label: 'pd-router' }])).resolves.toBeUndefined();

    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const busy = (server.address() as { port: number }).port;
    try {
      expect(await probePort(busy)).toBe('EADDRINUSE');
      const error = await assertPortsFree([
        { port: busy, label: 'decode-1 KV' },
        { port: free, label: 'pd-router' },
        { port: free, label: 'prefill-1 HTTP' },
      ]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DevError);
      expect((error as DevError).code).toBe('PD_ERR_DEV_PORT_IN_USE');
      expect((error as DevError).message.split('\n').slice(0, 2)).toEqual([
        `port ${free} is planned twice (pd-router and prefill-1 HTTP)`,
        `port ${busy} (decode-1 KV) is already in use`,
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
