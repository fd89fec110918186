/**
 * Assertions for the tests, in the shape of Deno's std/assert (JSR is not reachable from our machines),
 * built on `node:assert`'s deep equality.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** An assertion failed. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = "Expected a truthy value"): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/** Asserts deep, strict equality (Uint8Arrays, Maps and Sets compared by content). */
export function assertEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  try {
    nodeAssert.deepStrictEqual(actual, expected);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new AssertionError(msg ? `${msg}\n${detail}` : detail);
  }
}

/** Asserts that two values are not deeply equal. */
export function assertNotEquals(actual: unknown, expected: unknown, msg?: string): void {
  try {
    nodeAssert.notDeepStrictEqual(actual, expected);
  } catch {
    throw new AssertionError(msg ?? `Expected the values to differ: ${Deno.inspect(actual)}`);
  }
}

/** Asserts that `actual` is neither null nor undefined. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new AssertionError(msg ?? `Expected a value, got ${actual}`);
  }
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  if (!expected.test(actual)) {
    throw new AssertionError(msg ?? `Expected ${Deno.inspect(actual)} to match ${expected}`);
  }
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(msg ?? `Expected ${Deno.inspect(actual)} to include ${Deno.inspect(expected)}`);
  }
}

/** Asserts that `actual` is greater than `expected`. */
export function assertGreater(actual: number, expected: number, msg?: string): void {
  if (!(actual > expected)) throw new AssertionError(msg ?? `Expected ${actual} > ${expected}`);
}

/** Asserts that `actual` is less than or equal to `expected`. */
export function assertLessOrEqual(actual: number, expected: number, msg?: string): void {
  if (!(actual <= expected)) throw new AssertionError(msg ?? `Expected ${actual} <= ${expected}`);
}

/** Asserts that `fn` throws (optionally an instance of `ErrorClass` whose message includes `msgIncludes`). */
export function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: new (...args: any[]) => Error,
  msgIncludes?: string,
): Error {
  try {
    fn();
  } catch (err) {
    return checkError(err, ErrorClass, msgIncludes);
  }
  throw new AssertionError("Expected the function to throw");
}

/** Asserts that `fn` rejects (optionally with an instance of `ErrorClass` whose message includes `msgIncludes`). */
export async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: new (...args: any[]) => Error,
  msgIncludes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return checkError(err, ErrorClass, msgIncludes);
  }
  throw new AssertionError("Expected the promise to reject");
}

function checkError(
  err: unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: new (...args: any[]) => Error,
  msgIncludes?: string,
): Error {
  if (!(err instanceof Error)) throw new AssertionError(`Expected an Error, got ${Deno.inspect(err)}`);
  const error: Error = err;
  const actual = `${error.name}: ${error.message}`;
  if (ErrorClass !== undefined && !(error instanceof ErrorClass)) {
    throw new AssertionError(`Expected ${ErrorClass.name}, got ${actual}`);
  }
  if (msgIncludes !== undefined && !error.message.includes(msgIncludes)) {
    throw new AssertionError(
      `Expected the message to include ${Deno.inspect(msgIncludes)}: ${error.message}`,
    );
  }
  return error;
}

/** Fails the test with `msg`. */
export function fail(msg: string): never {
  throw new AssertionError(msg);
}
