import * as tf from "@tensorflow/tfjs";

/*
 * The hidden activations with their derivatives written out, for the written-out Dense step. Each forward
 * is the same tfjs op sequence the layers' activation runs (tfjs-layers 4.22 activations.js), so the fast
 * step's outputs equal the generic path's; each derivative uses the saved input z and output y.
 */

/** Keras's activation names as the written-out step knows them ("linear": none). */
export type Activation = "relu" | "linear" | "elu" | "selu" | "leaky_relu" | "gelu" | "swish" | "tanh" | "sigmoid";
export const ACTIVATION_NAMES: readonly Activation[] = ["relu", "linear", "elu", "selu", "leaky_relu", "gelu", "swish", "tanh", "sigmoid"];

// tf.selu's constants (Klambauer et al. 2017), the same as Keras's.
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** f(z); `alpha` is leaky_relu's negative slope. */
export function activate(name: Activation, z: tf.Tensor2D, alpha = 0.2): tf.Tensor2D {
  switch (name) {
    case "relu":
      return tf.relu(z);
    case "linear":
      return z;
    case "elu":
      return tf.elu(z);
    case "selu":
      return tf.selu(z);
    case "leaky_relu":
      return tf.leakyRelu(z, alpha);
    case "gelu":
      // tfjs-layers' Gelu: the exact (erf) form, which is also Keras's default (approximate=False).
      return tf.mul(z, tf.mul(0.5, tf.add(1, tf.erf(tf.div(z, Math.SQRT2)))));
    case "swish":
      return tf.mul(tf.sigmoid(z), z);
    case "tanh":
      return tf.tanh(z);
    case "sigmoid":
      return tf.sigmoid(z);
  }
}

/** dL/dz = dy · f'(z), with y = f(z) reused where the derivative is cheaper from it. */
export function activationGrad(name: Activation, dy: tf.Tensor2D, z: tf.Tensor2D, y: tf.Tensor2D, alpha = 0.2): tf.Tensor2D {
  switch (name) {
    case "relu":
      return tf.mul(dy, tf.step(y));
    case "linear":
      return dy;
    case "elu":
      // 1 for z > 0, else e^z = y + 1.
      return tf.mul(dy, tf.where(tf.greater(z, 0), tf.onesLike(z), tf.add(y, 1)));
    case "selu":
      // scale for z > 0, else scale·alpha·e^z = y + scale·alpha.
      return tf.mul(dy, tf.where(tf.greater(z, 0), tf.fill(z.shape, SELU_SCALE), tf.add(y, SELU_SCALE * SELU_ALPHA)));
    case "leaky_relu":
      return tf.mul(dy, tf.where(tf.greater(z, 0), tf.onesLike(z), tf.fill(z.shape, alpha)));
    case "gelu": {
      // Φ(z) + z·φ(z), φ the standard normal density.
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.div(z, Math.SQRT2))));
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(z), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return tf.mul(dy, tf.add(cdf, tf.mul(z, pdf)));
    }
    case "swish": {
      // σ(z) + y·(1 − σ(z)).
      const s = tf.sigmoid(z);
      return tf.mul(dy, tf.add(s, tf.mul(y, tf.sub(1, s))));
    }
    case "tanh":
      return tf.mul(dy, tf.sub(1, tf.square(y)));
    case "sigmoid":
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
  }
}
