/**
 * Secrets that must never be printed: a wrapper that hides its value from every formatter, and a
 * guard that replaces any registered secret in text about to leave the process (log lines, HTTP
 * bodies, error messages).
 *
 * @example
 * ```ts
 * import { Redactor, Secret } from "./redaction.ts";
 * const password = new Secret("s3cr3t-md5");
 * `${password}`; // "***"
 * JSON.stringify({ password }); // '{"password":"***"}'
 * const redactor = new Redactor();
 * redactor.register(password.reveal());
 * redactor.redact("key=s3cr3t-md5"); // "key=***"
 * ```
 *
 * @module
 */

/** What every secret is replaced by. */
export const MASK = "***";

/**
 * A secret value. Its text is reachable only through {@linkcode Secret.reveal}; string conversion,
 * JSON and Deno's inspector all show `***`.
 */
export class Secret {
  #value: string;

  /** Wraps `value`. */
  constructor(value: string) {
    this.#value = value;
  }

  /** The secret text; call only where the secret is used (a socket option), never to print it. */
  reveal(): string {
    return this.#value;
  }

  /** The length in bytes of the UTF-8 encoding, which TCP-MD5 limits. */
  get byteLength(): number {
    return new TextEncoder().encode(this.#value).length;
  }

  /** Always the mask. */
  toString(): string {
    return MASK;
  }

  /** Always the mask. */
  toJSON(): string {
    return MASK;
  }

  /** Keeps `console.log` and `Deno.inspect` from showing the value. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Secret(${MASK})`;
  }
}

/**
 * Replaces registered secrets in text. Each secret is matched as written and in the escaped forms that
 * JSON and key=value quoting produce, so quoting cannot smuggle it out.
 */
export class Redactor {
  #needles: string[] = [];

  /** Adds a secret to guard; empty strings are ignored. */
  register(secret: string | Secret | undefined): void {
    const text = secret instanceof Secret ? secret.reveal() : secret;
    if (text === undefined || text === "") return;
    const forms = new Set([text, JSON.stringify(text).slice(1, -1), encodeURIComponent(text)]);
    for (const form of forms) {
      if (form !== "" && !this.#needles.includes(form)) this.#needles.push(form);
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.#needles.sort((a, b) => b.length - a.length);
  }

  /** Whether any secret is registered. */
  get active(): boolean {
    return this.#needles.length > 0;
  }

  /** `text` with every registered secret replaced by `***`. */
  redact(text: string): string {
    let out = text;
    for (const needle of this.#needles) {
      if (out.includes(needle)) out = out.replaceAll(needle, MASK);
    }
    return out;
  }
}
