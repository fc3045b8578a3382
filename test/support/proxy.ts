/**
 * A TCP proxy on 127.0.0.1 between the library and a database server, for fault injection: it
 * forwards bytes both ways and, when armed, lets one statement through to the server but drops
 * the server's reply to it and cuts the connection. The server has run (and, outside a
 * transaction, committed) the statement; the client only sees its connection die. This is the
 * "acknowledgement lost" case that retries must not get wrong. Or it cuts the connection just
 * before a statement reaches the server (it never ran): the other case a retry must tell apart.
 */
import net from 'node:net';

interface Trap {
  pattern: RegExp;
  fired: () => void;
  /** Cut before the statement reaches the server, instead of after it ran. */
  before?: boolean;
}

export class FaultProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #traps: Trap[] = [];
  /** Statements whose replies were dropped. */
  readonly dropped: string[] = [];

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** Listen on `listenPort` of 127.0.0.1 (default: an ephemeral one), forwarding to `host:port`. */
  static start(host: string, port: number, listenPort = 0): Promise<FaultProxy> {
    const server = net.createServer();
    const proxy = new FaultProxy(server);
    server.on('connection', (client) => proxy.#pipe(client, host, port));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve(proxy));
    });
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /**
   * The next statement whose text matches `pattern` reaches the server, but its reply is dropped
   * and the connection cut. Resolves when that has happened.
   */
  dropReplyTo(pattern: RegExp): Promise<void> {
    return new Promise((fired) => this.#traps.push({ pattern, fired }));
  }

  /** The next statement whose text matches `pattern` never reaches the server: the connection is cut instead. */
  cutBefore(pattern: RegExp): Promise<void> {
    return new Promise((fired) => this.#traps.push({ pattern, fired, before: true }));
  }

  #down = false;
  /** A server outage: every open connection is cut and new ones are refused until restore(). */
  outage(): void {
    this.#down = true;
    for (const s of this.#sockets) s.destroy();
  }
  /** Open connections keep working; new ones are refused until restore(). */
  refuseNew(): void {
    this.#down = true;
  }
  /** The server is back: connections are forwarded again. */
  restore(): void {
    this.#down = false;
  }

  /** Traps not fired yet. */
  get armed(): number {
    return this.#traps.length;
  }

  #pipe(client: net.Socket, host: string, port: number): void {
    if (this.#down) return void client.destroy();
    const server = net.connect(port, host);
    this.#sockets.add(client).add(server);
    let cut: Trap | null = null;
    const end = () => {
      client.destroy();
      server.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(server);
    };
    client.on('data', (chunk) => {
      if (!cut) {
        // Statement text travels as plain bytes in both protocols (MySQL COM_QUERY, PostgreSQL Query/Parse).
        const text = chunk.toString('latin1');
        const i = this.#traps.findIndex((t) => t.pattern.test(text));
        if (i >= 0) {
          cut = this.#traps.splice(i, 1)[0]!;
          this.dropped.push(text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 200));
          if (cut.before) {
            end();
            cut.fired();
            return;
          }
        }
      }
      server.write(chunk);
    });
    server.on('data', (chunk) => {
      if (cut) {
        // The server answered the trapped statement: it ran. The client never hears of it.
        const trap = cut;
        end();
        trap.fired();
        return;
      }
      client.write(chunk);
    });
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
