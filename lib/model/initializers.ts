import * as tf from "@tensorflow/tfjs";
import type { InitializerName } from "../config";

/*
 * Keras's kernel initializers by name. The uniform ones are tfjs's as they are. The normal ones (glorot_normal,
 * he_normal, lecun_normal) are Keras 3's VarianceScaling: a normal truncated at 2 stddev whose stddev is
 * sqrt(scale / fan) / 0.8796..., the truncated distribution's own stddev factor, so the draws keep the variance
 * scale / fan. tfjs truncates sqrt(scale / fan) itself and so draws 0.774x that variance (measured against Keras:
 * 0.772 on 235,200 draws, test/e2e/keras-layers.test.ts), which would start every normal-initialized model of
 * Géron's chapter 11 with weights 12% smaller than Keras's.
 */

/** The stddev of a standard normal truncated at ±2 (Keras's VarianceScaling divides by it). */
const TRUNCATED_STDDEV = 0.87962566103423978;

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;
/** The fields of tfjs's VarianceScaling that the normal initializers carry. */
interface VarianceScalingFields {
  scale: number;
  mode: "fanIn" | "fanOut" | "fanAvg";
  seed?: number;
}

/** Keras's initializer `name`, seeded; its config (tfjs's VarianceScaling) reads as Keras's. */
export function kernelInitializer(name: InitializerName, seed: number): Initializer {
  switch (name) {
    case "glorot_uniform":
      return tf.initializers.glorotUniform({ seed });
    case "he_uniform":
      return tf.initializers.heUniform({ seed });
    case "lecun_uniform":
      return tf.initializers.leCunUniform({ seed });
    case "glorot_normal":
      return kerasTruncated(tf.initializers.glorotNormal({ seed }));
    case "he_normal":
      return kerasTruncated(tf.initializers.heNormal({ seed }));
    case "lecun_normal":
      return kerasTruncated(tf.initializers.leCunNormal({ seed }));
  }
}

/**
 * tfjs's normal VarianceScaling `init` drawing as Keras's: the same class, scale, mode and seed (so a saved model's
 * config is unchanged), the stddev widened by 1/0.8796.... Dense kernels only: [fanIn, fanOut].
 */
function kerasTruncated(init: Initializer): Initializer {
  const { scale, mode, seed } = init as unknown as VarianceScalingFields;
  init.apply = (shape: number[], dtype?: tf.DataType) => {
    if (shape.length !== 2) throw new Error(`kernel initializer: expected a Dense kernel shape [fanIn, fanOut], got [${shape.join(", ")}]`);
    const [fanIn, fanOut] = shape as [number, number];
    const fan = mode === "fanIn" ? fanIn : mode === "fanOut" ? fanOut : (fanIn + fanOut) / 2;
    const stddev = Math.sqrt(scale / Math.max(1, fan)) / TRUNCATED_STDDEV;
    return tf.truncatedNormal(shape, 0, stddev, (dtype ?? "float32") as "float32", seed);
  };
  return init;
}
