import type { Histogram } from "./event";

/**
 * The values' histogram as TensorBoard's HistogramProto, with `buckets` equal-width buckets from min to max
 * (30, tf.summary.histogram's default). All-equal values make one bucket, as tf.summary does.
 */
export function histogramOf(values: ArrayLike<number>, buckets = 30): Histogram {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  const num = values.length;
  if (num === 0) return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  if (min === max) return { min, max, num, sum, sumSquares, bucketLimit: [max], bucket: [num] };
  const width = (max - min) / buckets;
  const bucket = new Array<number>(buckets).fill(0);
  for (let i = 0; i < values.length; i++) bucket[Math.min(buckets - 1, Math.floor((values[i]! - min) / width))]!++;
  const bucketLimit = bucket.map((_, i) => (i === buckets - 1 ? max : min + (i + 1) * width));
  return { min, max, num, sum, sumSquares, bucketLimit, bucket };
}
