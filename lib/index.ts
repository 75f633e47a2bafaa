// The one public entry point: notebooks, the CLI and tests import from "fashion-ann" (this file).
export * from "./config";
