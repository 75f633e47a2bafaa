// The standard normal's probability mass on an interval, accurate in the tails (the importances' kernels are
// discretised normals): erfc by its series near 0 and its continued fraction beyond, to ~1e-13.

const SQRT1_2 = Math.SQRT1_2;

/** erfc(x) for x >= 0. */
function erfcPositive(x: number): number {
  if (x < 2.5) {
    // erf's Taylor series: sum (-1)^n x^(2n+1) / (n! (2n+1)).
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** P(Z <= z) for z <= 0, from the left tail without cancellation. */
const leftTail = (z: number): number => 0.5 * erfcPositive(-z * SQRT1_2);

/** P(a < Z < b) for a standard normal Z, a <= b. */
export function normalMass(a: number, b: number): number {
  if (b <= 0) return leftTail(b) - leftTail(a);
  if (a > 0) return leftTail(-a) - leftTail(-b);
  return 1 - leftTail(a) - leftTail(-b);
}
