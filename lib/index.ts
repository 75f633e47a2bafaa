// The one public entry point: notebooks, the CLI and tests import from "fashion-ann" (this file).
export * from "./config";
export * from "./backend";
export * from "./data";
export * from "./ndarray";
export * from "./model";
export * from "./summary";
export * from "./train";
export * from "./progress";
export * from "./history";
export * from "./evaluate";
export * from "./predict";
export * from "./metrics";
export * from "./runs";
export * from "./experiment";
export * from "./checkpoint";
export * from "./notebooks";
export * from "./plots";
export { writeFileAtomic } from "./atomic";
