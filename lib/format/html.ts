/** Text made safe inside HTML elements and double-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

/** JSON made safe to paste inside an inline <script>. */
export function escapeForScript(json: string): string {
  // "</script>" inside a string would end the inline script early.
  return json
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
