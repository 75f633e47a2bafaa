/**
 * true when A and B are the same type, false otherwise: stricter than mutual assignability, which would let an
 * optional field that one side lacks pass. The config's plain types use it to stay equal to their zod schemas.
 */
export type SameType<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Fails to compile unless T is true: `type Checks = [Expect<SameType<A, B>>]` asserts at build time, with no code. */
export type Expect<T extends true> = T;
