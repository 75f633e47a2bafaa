/** A shape as Python prints the tuple (Keras's notation, `None` for an unknown batch dimension): `(None, 784)`, `(300,)`, `()`. */
export function pythonShape(shape: readonly (number | null)[]): string {
  const dims = shape.map((d) => (d === null ? "None" : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
}
