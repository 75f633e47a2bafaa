/**
 * An index read the test knows to be present (noUncheckedIndexedAccess types it `T | undefined`): returns it
 * narrowed, or fails the test naming what was missing, rather than a TypeError a few lines further down.
 */
export function defined<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Error(`${what} is undefined, expected a value; the code under test returned less than the test reads.`);
  return x;
}
