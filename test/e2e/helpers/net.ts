// Loopback ports for the servers e2e tests start (Jupyter, TensorBoard, PostgreSQL): never a fixed port, since
// other test files and other checkouts run at the same time.
import * as net from "node:net";

/**
 * A loopback port no one listens on now, as the OS hands it out (listen on 0), for a server that cannot listen on
 * port 0 itself. Another process may take it before the server binds it: a caller that cares retries.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
