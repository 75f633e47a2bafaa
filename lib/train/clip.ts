import * as tf from "@tensorflow/tfjs";

/** Keras's optimizer clipping arguments: at most one is set. */
export interface Clipping {
  /** Keras's clipnorm: each gradient tensor is rescaled to at most this L2 norm. */
  clipNorm?: number | null;
  /** Keras's clipvalue: each component is clipped to [-clipValue, clipValue]. */
  clipValue?: number | null;
}

/**
 * The gradients as Keras's optimizer clips them before the update (keras/src/optimizers/base_optimizer.py):
 * clipnorm per variable, g·c / max(‖g‖, c); clipvalue per component. Returns `grads` itself when neither
 * is set. Call inside tf.tidy.
 */
export function clipGradients(grads: tf.NamedTensorMap, clip: Clipping): tf.NamedTensorMap {
  const { clipNorm, clipValue } = clip;
  if (clipNorm == null && clipValue == null) return grads;
  const out: tf.NamedTensorMap = {};
  for (const [name, g] of Object.entries(grads)) {
    if (clipValue != null) out[name] = tf.clipByValue(g, -clipValue, clipValue);
    else out[name] = tf.div(tf.mul(g, clipNorm!), tf.maximum(tf.norm(g), clipNorm!));
  }
  return out;
}
