/**
 * Hex text and test corpus access for the wire codec tests.
 *
 * @module
 */

/** Parses hex text (whitespace and colons ignored) into bytes. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`Invalid hex "${text}"`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Formats bytes as upper-case hex. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s.toUpperCase();
}

/** The shared test corpus (MRT files, pcaps, ExaBGP vectors). */
export const CORPUS = new URL("../../../shared/corpus/", import.meta.url).pathname;

/** Reads a corpus file, failing with a clear message when the corpus is missing. */
export function readCorpus(path: string): string {
  try {
    return Deno.readTextFileSync(CORPUS + path);
  } catch (e) {
    throw new Error(
      `Test corpus file ${CORPUS + path} is missing (${e}); the corpus lives in /work/shared/corpus`,
    );
  }
}
