/**
 * UTF-8 validation for the text fields of BGP messages (RFC 9003 shutdown communication, FQDN capability).
 *
 * @module
 */

/**
 * Whether `b` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code points above U+10FFFF).
 *
 * @example
 * ```ts
 * isValidUtf8(new Uint8Array([0xc3, 0xa9])); // true
 * isValidUtf8(new Uint8Array([0xc0, 0x80])); // false
 * ```
 */
export function isValidUtf8(b: Uint8Array): boolean {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number, min: number, cp: number;
    if (c >= 0xc2 && c <= 0xdf) [need, min, cp] = [1, 0x80, c & 0x1f];
    else if (c >= 0xe0 && c <= 0xef) [need, min, cp] = [2, 0x800, c & 0x0f];
    else if (c >= 0xf0 && c <= 0xf4) [need, min, cp] = [3, 0x10000, c & 0x07];
    else return false;
    if (i + need >= n) return false;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}
