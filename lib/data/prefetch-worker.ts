// Worker-thread entry of ./prefetch: reads the four files from the decoded cache, checks their pinned hashes, parses
// and scales them, and posts the buffers back (transferred). Any problem posts null: loadData then does the work.
import { parentPort, workerData } from "node:worker_threads";
import { readDecoded } from "./decoded-cache";
import { NDArray } from "../format/ndarray";
import { FASHION_MNIST_FILES, type FashionMnistPart } from "./fashion-mnist";
import { parseIdxImages, parseIdxLabels } from "./idx";
import type { PrefetchMessage, PrefetchRequest } from "./prefetch";
import { scaleImages } from "./split";

async function read(): Promise<PrefetchMessage | null> {
  const { decodedCacheDir } = workerData as PrefetchRequest;
  const out: Partial<PrefetchMessage> = {};
  for (const part of Object.keys(FASHION_MNIST_FILES) as FashionMnistPart[]) {
    const found = await readDecoded(decodedCacheDir, FASHION_MNIST_FILES[part].sha256);
    if (!found) return null;
    const parsed = part.endsWith("Images") ? parseIdxImages(found.bytes, found.file) : parseIdxLabels(found.bytes, found.file);
    // A copy of the parsed bytes: they are a view into the file's Buffer (whose slice() is a view too), which would
    // otherwise travel whole, header included.
    const own = new Uint8Array(parsed.data);
    out[part] = { buffer: own.buffer, shape: [...parsed.shape] };
  }
  const scale = (k: "trainImages" | "testImages") => {
    const { buffer, shape } = out[k]!;
    return { buffer: scaleImages(new NDArray(new Uint8Array(buffer), shape)).data.buffer as ArrayBuffer, shape };
  };
  out.scaledTrain = scale("trainImages");
  out.scaledTest = scale("testImages");
  return out as PrefetchMessage;
}

read()
  .catch(() => null)
  .then((m) => parentPort?.postMessage(m, m ? Object.values(m).map((a) => a.buffer) : []));
