/**
 * Order statistics of benchmark samples. Pure.
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * percentile([1, 2, 3, 4], 0.99); // 4
 * ```
 *
 * @module
 */

/** The median of `xs` (the mean of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The `q`-quantile of `xs` (0 < q ≤ 1) by the nearest-rank method; NaN when empty. */
export function percentile(xs: readonly number[], q: number): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const rank = Math.min(s.length, Math.max(1, Math.ceil(q * s.length)));
  return s[rank - 1];
}

/** The smallest and largest finite value of `xs`, or NaN for both when there is none. */
export function range(xs: readonly number[]): { min: number; max: number } {
  const s = xs.filter((x) => Number.isFinite(x));
  return s.length === 0 ? { min: NaN, max: NaN } : { min: Math.min(...s), max: Math.max(...s) };
}
