/**
 * Assertions for the session tests, on top of `node:assert` (JSR's std is not reachable here).
 *
 * @module
 */
import { deepStrictEqual, ok } from "node:assert";

/** Fails unless `actual` deeply and strictly equals `expected`. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  deepStrictEqual(actual, expected, message);
}

/** Fails unless `value` is truthy. */
export function assert(value: unknown, message?: string): asserts value {
  ok(value, message);
}
