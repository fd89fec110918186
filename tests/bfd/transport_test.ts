import { assert, assertEquals } from "../assert.ts";
import {
  type BfdDatagram,
  BfdListener,
  BfdSender,
  SOURCE_PORT_MAX,
  SOURCE_PORT_MIN,
  type TransportDropReason,
} from "../../lib/bfd/transport.ts";
import { UdpSocket } from "../../lib/bfd/udp_libc.ts";
import type { IpFamily } from "../../lib/transport/socket_address.ts";

/** Collects what a listener on loopback (kernel-chosen port) reports. */
function collector(family: IpFamily, mode: "single" | "multi", minTtl?: number) {
  const got: BfdDatagram[] = [];
  const dropped: [TransportDropReason, number][] = [];
  const listener = BfdListener.open({
    family,
    mode,
    minTtl,
    address: family === 4 ? "127.0.0.1" : "::1",
    port: 0,
    onDatagram: (d) => got.push(d),
    onDrop: (reason, _source, ttl) => dropped.push([reason, ttl]),
  });
  return { listener, got, dropped };
}

async function until(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const family of [4, 6] as const) {
  const loopback = family === 4 ? "127.0.0.1" : "::1";

  Deno.test(`BfdListener (IPv${family}) accepts TTL 255 from a sender with a source port in 49152-65535`, async () => {
    const { listener, got } = collector(family, "single");
    const sender = BfdSender.open({ family, localAddress: loopback });
    try {
      const port = sender.local.port;
      assert(port >= SOURCE_PORT_MIN && port <= SOURCE_PORT_MAX, `source port ${port}`);
      assertEquals(sender.send(new Uint8Array([1, 2, 3]), loopback, listener.local.port), 0);
      await until("the datagram", () => got.length === 1);
      assertEquals([got[0].ttl, got[0].source.port, got[0].mode, [...got[0].data]], [255, port, "single", [
        1,
        2,
        3,
      ]]);
    } finally {
      await sender.close();
      await listener.close();
    }
  });

  Deno.test(`BfdListener (IPv${family}) single hop drops a datagram sent with TTL 254`, async () => {
    const { listener, got, dropped } = collector(family, "single");
    const sender = BfdSender.open({ family, localAddress: loopback, ttl: 254 });
    try {
      sender.send(new Uint8Array(24), loopback, listener.local.port);
      await until("the drop", () => dropped.length === 1);
      assertEquals([dropped, got.length], [[["ttl", 254]], 0]);
    } finally {
      await sender.close();
      await listener.close();
    }
  });

  Deno.test(`BfdListener (IPv${family}) multihop accepts TTLs down to its minimum`, async () => {
    const { listener, got, dropped } = collector(family, "multi", 250);
    const ok = BfdSender.open({ family, localAddress: loopback, ttl: 250 });
    const low = BfdSender.open({ family, localAddress: loopback, ttl: 249 });
    try {
      ok.send(new Uint8Array(24), loopback, listener.local.port);
      low.send(new Uint8Array(24), loopback, listener.local.port);
      await until("both datagrams", () => got.length + dropped.length === 2);
      assertEquals([got.map((d) => d.ttl), dropped], [[250], [["ttl", 249]]]);
    } finally {
      await ok.close();
      await low.close();
      await listener.close();
    }
  });

  Deno.test(`the kernel delivers an IPv${family} UDP datagram below IP_MINTTL, so the TTL check is ours`, async () => {
    // Why BfdListener checks the TTL itself: Linux applies IP_MINTTL / IPV6_MINHOPCOUNT to TCP only.
    const receiver = UdpSocket.open({ family, address: loopback, port: 0, receiveTtl: true, minTtl: 255 });
    const sender = BfdSender.open({ family, localAddress: loopback, ttl: 254 });
    try {
      sender.send(new Uint8Array(24), loopback, receiver.localEndpoint().port);
      assert(await receiver.wait());
      assertEquals(receiver.receive()?.ttl, 254);
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
}

Deno.test("BfdListener.close() ends a pending wait at once", async () => {
  const { listener } = collector(4, "single");
  const start = performance.now();
  await listener.close();
  assert(performance.now() - start < 1_000);
});

Deno.test("BfdListener.open() refuses a port another BFD listener holds", async () => {
  const { listener } = collector(4, "single");
  try {
    let code = "";
    try {
      BfdListener.open({
        family: 4,
        mode: "single",
        address: "127.0.0.1",
        port: listener.local.port,
        onDatagram() {},
      });
    } catch (error) {
      code = (error as { code?: string }).code ?? String(error);
    }
    assertEquals(code, "EADDRINUSE");
  } finally {
    await listener.close();
  }
});

Deno.test("BfdSender.open() picks another source port when the drawn one is taken", async () => {
  const first = BfdSender.open({ family: 4, localAddress: "127.0.0.1" });
  const span = SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1;
  const taken = (first.local.port - SOURCE_PORT_MIN + 0.5) / span;
  let draws = 0;
  // The first draw hits the taken port; later draws are random.
  const second = BfdSender.open({
    family: 4,
    localAddress: "127.0.0.1",
    random: () => (draws++ === 0 ? taken : Math.random()),
  });
  try {
    assert(draws >= 2, `drew ${draws} ports`);
    assert(second.local.port !== first.local.port);
    assert(second.local.port >= SOURCE_PORT_MIN && second.local.port <= SOURCE_PORT_MAX);
  } finally {
    await first.close();
    await second.close();
  }
});
