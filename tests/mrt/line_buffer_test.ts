import { strictEqual } from "node:assert/strict";
import { LineBuffer } from "../../lib/mrt/line_buffer.ts";
import { ipv6ToString } from "../../lib/wire/address.ts";

function written(write: (out: LineBuffer) => void, size = 8): string {
  let text = "";
  const out = new LineBuffer((bytes) => text += new TextDecoder().decode(bytes), size);
  write(out);
  out.flush();
  return text;
}

Deno.test("LineBuffer.uint() writes every magnitude of number in decimal", () => {
  const values = [
    0,
    9,
    10,
    99,
    100,
    255,
    256,
    999,
    1000,
    9999,
    10000,
    65535,
    2147483647,
    2147483648,
    4294967295,
  ];
  const text = written((out) => {
    for (const v of values) {
      out.uint(v);
      out.byte(0x20);
    }
  });
  strictEqual(text, values.join(" ") + " ");
  strictEqual(written((out) => out.uint(2 ** 53 - 1), 4), String(2 ** 53 - 1));
});

Deno.test("LineBuffer.ipv4Line() writes head, masked prefix, path identifier and tail across flushes", () => {
  const head = new LineBuffer(undefined, 4);
  head.ascii("BGP4MP|1|A|192.0.2.1|64496|");
  const tail = new LineBuffer(undefined, 4);
  tail.ascii("|64496 64497 64498 64499 64500 64501|IGP|192.0.2.1|0|0||NAG||\n");
  const bytes = new Uint8Array([9, 198, 51, 100, 0xff]);
  const text = written((out) => {
    out.ipv4Line(head, bytes, 1, 22, -1, tail);
    out.ipv4Line(head, bytes, 1, 9, 7, tail);
  }, 16);
  strictEqual(
    text,
    "BGP4MP|1|A|192.0.2.1|64496|198.51.100.0/22|64496 64497 64498 64499 64500 64501|IGP|192.0.2.1|0|0||NAG||\n" +
      "BGP4MP|1|A|192.0.2.1|64496|198.0.0.0/9|7|64496 64497 64498 64499 64500 64501|IGP|192.0.2.1|0|0||NAG||\n",
  );
});

Deno.test("LineBuffer grows instead of flushing when it has no flush callback", () => {
  const scratch = new LineBuffer(undefined, 2);
  scratch.ascii("a long line that does not fit");
  scratch.uint(123456);
  strictEqual(new TextDecoder().decode(scratch.view()), "a long line that does not fit123456");
  scratch.reset();
  strictEqual(scratch.view().length, 0);
});

Deno.test("LineBuffer.ipv6() writes exactly what ipv6ToString() returns", () => {
  // Addresses built from random groups, many of them zero, so every run length and position occurs.
  let seed = 5952;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const cases: Uint8Array[] = [
    new Uint8Array(16),
    new Uint8Array([...new Array(15).fill(0), 1]),
    new Uint8Array([...new Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]),
    new Uint8Array([...new Array(12).fill(0), 192, 0, 2, 1]),
    new Uint8Array([...new Array(10).fill(0), 0xff, 0xfe, 192, 0, 2, 1]),
  ];
  for (let n = 0; n < 2000; n++) {
    const a = new Uint8Array(16);
    for (let g = 0; g < 8; g++) {
      const kind = random();
      const v = kind < 0.5 ? 0 : kind < 0.7 ? Math.floor(random() * 16) : Math.floor(random() * 65536);
      a[2 * g] = v >> 8;
      a[2 * g + 1] = v & 255;
    }
    cases.push(a);
  }
  for (const a of cases) {
    strictEqual(written((out) => out.ipv6(a), 16), ipv6ToString(a), [...a].join(","));
  }
});
