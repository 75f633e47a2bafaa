/**
 * A cheaper program under tslab's cell compiler. tslab compiles each cell with a TypeScript watch program whose
 * builder (createEmitAndSemanticDiagnosticsBuilderProgram) rebuilds, for every new program, a type checker and the
 * reference map of every file in it; tslab updates the program twice per cell. With the library's ~700 declaration
 * files that was about half of a cell's compile time (0.2-0.4 s of CPU per cell, the import cell and startNotebook's
 * included), and tslab uses none of the builder's incremental state: it asks for the program, a source file, an
 * emit and the cell's source dependencies. This builder is a plain Program that answers those: the cell file is bound
 * on its own (tslab reads its locals before checking), and the dependencies come from TypeScript's own BuilderState
 * only when the program holds a source file other than the cell (a local .ts module or a `%%module` cell); otherwise
 * they are the cell alone, which is what tslab's filter of the builder's answer keeps. Type checking, diagnostics and
 * emit are TypeScript's, unchanged.
 *
 * tslab passes no createProgram of its own, and the TypeScript it bundles exports read-only bindings, so the builder
 * goes in through the module cache: the `ts` tslab's converter loads gets this builder as the default of
 * createWatchCompilerHost. tslab is pinned (package.json) because this builds on its internals, as kernel.ts does.
 */
import type { Converter } from "tslab/dist/converter";
import { stableImports } from "./stable-imports";
import { tslabRequire, tslabResolve } from "./tslab-require";

/** The few TypeScript internals this uses; typed here because the bundled compiler's .d.ts leaves them out. */
interface SourceFile {
  fileName: string;
  isDeclarationFile: boolean;
  locals?: unknown;
}
interface Program {
  getSourceFile(name: string): SourceFile | undefined;
  getSourceFiles(): readonly SourceFile[];
  getCompilerOptions(): unknown;
  emit(...args: unknown[]): unknown;
}
interface TypeScript {
  createProgram(options: Record<string, unknown>): Program;
  createWatchCompilerHost(...args: unknown[]): unknown;
  bindSourceFile(file: SourceFile, options: unknown): void;
  BuilderState: {
    create(program: Program, oldState: undefined, disableUseFileVersionAsSignature: boolean): unknown;
    getAllDependencies(state: unknown, program: Program, file: SourceFile): readonly string[];
  };
}
interface OldBuilder {
  getProgramOrUndefined(): Program | undefined;
}

/** The builder interface tslab's converter and TypeScript's watch program call. */
function leanBuilder(ts: TypeScript) {
  return (
    rootNames: readonly string[],
    options: unknown,
    host: unknown,
    oldBuilder?: OldBuilder,
    configFileParsingDiagnostics?: unknown,
    projectReferences?: unknown,
  ) => {
    const oldProgram = oldBuilder?.getProgramOrUndefined();
    const program = ts.createProgram({ rootNames, options, host, oldProgram, configFileParsingDiagnostics, projectReferences });
    let state: unknown;
    return {
      getProgram: () => program,
      getProgramOrUndefined: () => program,
      releaseProgram: () => {},
      getCompilerOptions: () => program.getCompilerOptions(),
      getSourceFiles: () => program.getSourceFiles(),
      getSourceFile: (name: string) => {
        const file = program.getSourceFile(name);
        // tslab reads the cell's locals before anything creates a checker (which would bind every file).
        if (file && !file.locals) ts.bindSourceFile(file, program.getCompilerOptions());
        return file;
      },
      emit: (...args: unknown[]) => program.emit(...args),
      getAllDependencies: (file: SourceFile): readonly string[] => {
        if (!program.getSourceFiles().some((f) => !f.isDeclarationFile && f !== file)) return [file.fileName];
        state ??= ts.BuilderState.create(program, undefined, false);
        return ts.BuilderState.getAllDependencies(state, program, file);
      },
    };
  };
}

/** The TypeScript tslab bundles: the one its converter compiles cells with. */
const TSLAB_TYPESCRIPT = "@tslab/typescript-for-tslab";

let installed = false;

/** Puts the lean builder into the TypeScript that tslab's converter will load; before tslab/dist/converter loads. */
function install(): void {
  if (installed) return;
  installed = true;
  const ts = tslabRequire<TypeScript & Record<string, unknown>>(TSLAB_TYPESCRIPT);
  const cached = require.cache[tslabResolve(TSLAB_TYPESCRIPT)];
  if (!cached) return;
  const patched: Record<string, unknown> = {};
  for (const key of Object.keys(ts)) {
    if (key !== "createWatchCompilerHost") Object.defineProperty(patched, key, { enumerable: true, get: () => ts[key] });
  }
  const builder = leanBuilder(ts);
  patched.createWatchCompilerHost = (rootFiles: unknown, options: unknown, sys: unknown, createProgram: unknown, ...rest: unknown[]) =>
    ts.createWatchCompilerHost(rootFiles, options, sys, createProgram ?? builder, ...rest);
  cached.exports = patched;
}

/**
 * tslab's createConverter with the lean builder underneath, and the declarations it carries between cells written
 * with stable imports (./stable-imports), so that most cells reuse the previous program whole.
 */
export function createLeanConverter(options: { isJS: boolean; isBrowser: boolean }): Converter {
  install();
  const { createConverter } = require("tslab/dist/converter") as typeof import("tslab/dist/converter");
  const converter = createConverter(options);
  const stabilize = stableImports();
  const convert = converter.convert;
  converter.convert = (prevDecl, src) => {
    const result = convert(prevDecl, src);
    return result.declOutput === undefined ? result : { ...result, declOutput: stabilize(result.declOutput) };
  };
  return converter;
}
