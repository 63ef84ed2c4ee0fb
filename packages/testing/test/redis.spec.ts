import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { type RedisServer, runRedisCli, startRedis, startRedisCluster } from '../src/index.js';

const ping = (server: RedisServer) =>
  runRedisCli(
    {
      host: server.host,
      port: server.port,
      ...(server.password ? { password: server.password } : {}),
      ...(server.tls ? { tlsCaFile: server.tls.caFile } : {}),
    },
    ['ping'],
    3_000,
  );

describe('startRedis', () => {
  it('answers PING, dies on kill, comes back on the same port on restart, and cleans its folder on dispose', async () => {
    const server = await startRedis();
    try {
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
      expect((await ping(server)).trim()).toBe('PONG');

      await server.kill();
      await expect(ping(server)).rejects.toThrow(/Connection refused|Could not connect/);

      await server.restart();
      expect((await ping(server)).trim()).toBe('PONG');
    } finally {
      await server.dispose();
    }
    await expect(ping(server)).rejects.toThrow();
  });

  it('serves TLS only, with a password, using a CA generated for the run', async () => {
    const server = await startRedis({ tls: true, password: 's3cret/pass' });
    try {
      expect(server.url).toBe(`rediss://:s3cret%2Fpass@127.0.0.1:${server.port}`);
      expect(server.tls?.ca).toContain('BEGIN CERTIFICATE');
      expect(server.tls?.key).toContain('PRIVATE KEY');
      expect((await ping(server)).trim()).toBe('PONG');
      // Without the password the server refuses commands.
      const noAuth = await runRedisCli(
        { host: server.host, port: server.port, tlsCaFile: server.tls!.caFile },
        ['ping'],
      );
      expect(noAuth).toMatch(/NOAUTH/);
      // The plain protocol is not spoken on that port.
      await expect(
        runRedisCli(
          { host: server.host, port: server.port, password: 's3cret/pass' },
          ['ping'],
          3_000,
        ),
      ).rejects.toThrow();
    } finally {
      await server.dispose();
    }
    expect(existsSync(dirname(server.tls!.caFile))).toBe(false);
  });
});

describe('startRedisCluster', () => {
  it('reaches cluster_state:ok with three masters covering every slot, survives a node restart', async () => {
    const cluster = await startRedisCluster();
    try {
      expect(cluster.nodes).toHaveLength(3);
      for (const node of cluster.nodes) expect(node.port).toBeLessThan(55_535);
      const masters = await cluster.masters();
      expect(masters.map((m) => m.port).sort()).toEqual(cluster.nodes.map((n) => n.port).sort());
      expect(masters.flatMap((m) => m.slots).sort()).toEqual([
        '0-5460',
        '10923-16383',
        '5461-10922',
      ]);

      const victim = cluster.nodes[1]!.port;
      await cluster.killNode(victim);
      await expect(
        runRedisCli({ host: '127.0.0.1', port: victim }, ['ping'], 2_000),
      ).rejects.toThrow();
      await cluster.waitForState('fail', 10_000);

      await cluster.restartNode(victim);
      await cluster.waitForState('ok', 10_000);
      const info = await runRedisCli({ host: '127.0.0.1', port: victim }, ['cluster', 'info']);
      expect(info).toContain('cluster_state:ok');
    } finally {
      await cluster.dispose();
    }
  });
});
