// Fashion-MNIST data layer: IDX parsing (idx.ts) and locating, verifying, splitting (fashion-mnist.ts).
export * from "./idx";
export * from "./fashion-mnist";
