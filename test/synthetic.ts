import type { LabeledImages } from "../lib/train/fit";
import { seededRandom } from "../lib/train/shuffle";

/**
 * `n` seeded 28x28 images whose brightness grows with their class (i % 10): learnable in a few tiny epochs, so
 * training, checkpoint and resume tests see the loss move without the real dataset.
 */
export function syntheticImages(n: number, seed: number): LabeledImages {
  const random = seededRandom(seed);
  const x = new Float32Array(n * 784);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 10;
    y[i] = label;
    for (let j = 0; j < 784; j++) x[i * 784 + j] = Math.min(1, (label / 10) * random() * 2);
  }
  return { x: { data: x, shape: [n, 28, 28] }, y: { data: y, shape: [n] } };
}
