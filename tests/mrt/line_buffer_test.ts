import { strictEqual } from "node:assert/strict";
import { LineBuffer } from "../../lib/mrt/line_buffer.ts";

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
