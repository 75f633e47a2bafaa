import * as tf from "@tensorflow/tfjs";
import type { StackActivation } from "../model/dense-stack";

/*
 * The hidden activations with their derivatives written out, for the written-out Dense step. Each forward
 * is the same tfjs op sequence the layers' activation runs (tfjs-layers 4.22 activations.js), so the fast
 * step's outputs equal the generic path's; each derivative uses the saved input z and output y.
 */

/** model/dense-stack.ts's hidden activations, by tfjs-layers' names ("linear": none; "leakyRelu": the LeakyReLU layer). */
export type Activation = StackActivation;

// tf.selu's constants (Klambauer et al. 2017), the same as Keras's.
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;
// gelu_new's tanh approximation: 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))).
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

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
    case "relu6":
      return tf.minimum(6, tf.relu(z));
    case "leakyRelu":
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
    case "gelu_new":
      return tf.mul(0.5, tf.mul(z, tf.add(1, tf.tanh(tf.mul(tf.sqrt(tf.div(2, Math.PI)), tf.add(z, tf.mul(GELU_CUBIC, tf.pow(z, 3))))))));
    case "mish":
      return tf.mul(z, tf.tanh(tf.softplus(z)));
    case "softplus":
      return tf.softplus(z);
    case "softsign":
      return tf.div(z, tf.add(tf.abs(z), 1));
    case "hardSigmoid":
      return tf.clipByValue(tf.add(0.5, tf.mul(0.2, z)), 0, 1) as tf.Tensor2D;
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
    case "relu6":
      // 0 at 6 as well: tf.minimum's gradient goes to the constant on ties.
      return tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(z, 0), tf.less(z, 6)), "float32"));
    case "leakyRelu":
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
    case "gelu_new": {
      // 0.5·(1 + t) + 0.5·z·(1 − t²)·c·(1 + 3·0.044715·z²), t the tanh above.
      const t = tf.tanh(tf.mul(GELU_C, tf.add(z, tf.mul(GELU_CUBIC, tf.pow(z, 3)))));
      const inner = tf.mul(GELU_C, tf.add(1, tf.mul(3 * GELU_CUBIC, tf.square(z))));
      return tf.mul(dy, tf.add(tf.mul(0.5, tf.add(1, t)), tf.mul(tf.mul(0.5, z), tf.mul(tf.sub(1, tf.square(t)), inner))));
    }
    case "mish": {
      // tanh(sp) + z·σ(z)·(1 − tanh(sp)²), sp = softplus(z).
      const t = tf.tanh(tf.softplus(z));
      return tf.mul(dy, tf.add(t, tf.mul(tf.mul(z, tf.sigmoid(z)), tf.sub(1, tf.square(t)))));
    }
    case "softplus":
      return tf.mul(dy, tf.sigmoid(z));
    case "softsign":
      return tf.div(dy, tf.square(tf.add(tf.abs(z), 1)));
    case "hardSigmoid": {
      // 0.2 where 0.5 + 0.2·z lies in [0, 1] (tf.clipByValue passes its bounds' gradient).
      const u = tf.add(0.5, tf.mul(0.2, z));
      return tf.mul(dy, tf.mul(0.2, tf.cast(tf.logicalAnd(tf.greaterEqual(u, 0), tf.lessEqual(u, 1)), "float32")));
    }
  }
}
