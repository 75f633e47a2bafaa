// Keras's epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log.
export const EPSILON = 1e-7;

/**
 * Keras's sparse categorical cross-entropy and accuracy of softmax(`logits`) ([n, k], row-major) for class
 * indices `labels`, and `scale` times the loss's gradient with respect to the logits, (p - onehot)/n.
 * Probabilities are clipped to [1e-7, 1 - 1e-7] before the log, as Keras does.
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  labels: ArrayLike<number>,
  scale = 1,
): { loss: number; correct: number; gradient: Float32Array } {
  const n = labels.length;
  const k = logits.length / n;
  const gradient = new Float32Array(logits.length);
  // exp(z - max) of one row, computed once per class and kept in double precision.
  const exps = new Float64Array(k);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const y = labels[i]!;
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[row + j]! > logits[row + best]!) best = j;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += exps[j] = Math.exp(logits[row + j]! - logits[row + best]!);
    const py = exps[y]! / sum;
    for (let j = 0; j < k; j++) gradient[row + j] = (scale * exps[j]!) / sum / n;
    gradient[row + y] = gradient[row + y]! - scale / n;
    if (best === y) correct++;
    loss -= Math.log(Math.min(Math.max(py, EPSILON), 1 - EPSILON));
  }
  return { loss: loss / n, correct, gradient };
}
