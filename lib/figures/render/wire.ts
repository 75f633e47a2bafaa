/*
 * The render daemon's wire format: one JSON message per line over a Unix socket, requests carrying an id that
 * their response repeats, so one connection carries many figures at once. Plain JSON keeps both ends free of
 * any library; PNG and PDF bytes travel as base64.
 */
import { StringDecoder } from "node:string_decoder";
import type { Figure } from "../figure";

/**
 * Bumped when a message changes shape. It is part of the socket's name, so a client never talks to a daemon
 * of another protocol (an older build still running keeps its own socket until it idles out).
 */
export const RENDER_PROTOCOL_VERSION = 1;

/** What plotly's toImage is asked for: sizes in CSS pixels, PNG pixels per CSS pixel. */
export interface ImageRequest {
  format: "png" | "svg";
  width: number;
  height: number;
  scale: number;
}

/** Options of a printed page: paper, or a page of width x height CSS pixels, and its margin. */
export interface PdfOptions {
  /** Paper size such as "A4" or "Letter"; ignored when width and height are given. Default "A4". */
  paper?: "A4" | "A3" | "Letter" | "Legal";
  /** Page width and height in CSS pixels (96 per inch), for a page the size of a figure. */
  width?: number;
  height?: number;
  /** Page margin, CSS length; default "0" for a figure-sized page, "15mm" for paper. */
  margin?: string;
}

/** Counters of one renderer (a daemon, or the browser inside this process); tests use them to check sharing and reuse. */
export interface RendererCounters {
  /** Chromium launches (more than one means a crashed or closed browser was replaced). */
  launches: number;
  /** Pages opened with plotly.js loaded. */
  pages: number;
  /** Images and PDFs rendered, failed ones included. */
  renders: number;
}

export interface DaemonStats extends RendererCounters {
  pid: number;
  protocol: number;
  /** Connections accepted since the daemon started, and how many are open now. */
  connections: number;
  connected: number;
  /** Requests answered, any kind. */
  requests: number;
}

export type RenderRequest =
  | { id: number; op: "image"; fig: Figure; req: ImageRequest }
  | { id: number; op: "pdf"; html: string; opts: PdfOptions }
  | { id: number; op: "stats" }
  | { id: number; op: "stop" };

/** Distributes Omit over the union, so each request kind keeps its own fields. */
export type RequestBody = RenderRequest extends infer R ? (R extends RenderRequest ? Omit<R, "id"> : never) : never;

export type RenderResponse =
  | { id: number; ok: true; result: string | DaemonStats | null }
  /** `bad`: the request itself was wrong (a figure plotly rejects); otherwise the daemon failed to do it. */
  | { id: number; ok: false; error: string; bad: boolean };

/** One message as the line that carries it. */
export function encodeMessage(message: RenderRequest | RenderResponse): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Splits a byte stream into messages. A line that is not JSON is a broken peer, not a figure problem, so it
 * throws and the caller drops the connection.
 */
export class MessageReader<T> {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";

  /** The messages completed by this chunk, in order. */
  push(chunk: Buffer | string): T[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    this.pending += text;
    // A large figure arrives in many chunks: only a chunk that ends a line can complete a message.
    if (!text.includes("\n")) return [];
    const lines = this.pending.split("\n");
    this.pending = lines.pop() ?? "";
    return lines.filter((line) => line.length > 0).map((line) => JSON.parse(line) as T);
  }
}
