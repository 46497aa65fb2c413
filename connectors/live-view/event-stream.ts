// Server-sent events to the browsers of the live view. A browser that falls behind (its socket
// buffer full) misses results until it drains, instead of growing the server's memory: the page
// shows the latest frame per camera, so a skipped result is a skipped video frame. Stats are sent
// to every client every second whatever it missed.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface EventStreamOptions {
  maxClients: number;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  keepAliveMs?: number;
}

interface Client {
  res: ServerResponse;
  blocked: boolean;
}

export class EventStream {
  private readonly clients = new Set<Client>();
  private readonly o: EventStreamOptions;
  private readonly keepAlive: NodeJS.Timeout;
  skipped = 0;

  constructor(o: EventStreamOptions) {
    this.o = o;
    this.keepAlive = setInterval(() => this.broadcastRaw(': keep-alive\n\n', true), o.keepAliveMs ?? 15_000);
    this.keepAlive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response as an event stream; false (nothing written) when the client limit is reached. */
  attach(req: IncomingMessage, res: ServerResponse, first: { event: string; data: unknown }[]): boolean {
    if (this.clients.size >= this.o.maxClients) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    // The browser reconnects by itself after 2 s when the stream breaks.
    res.write('retry: 2000\n\n');
    const client: Client = { res, blocked: false };
    for (const e of first) res.write(format(e.event, e.data));
    res.on('drain', () => (client.blocked = false));
    const gone = () => this.clients.delete(client);
    req.once('close', gone);
    res.once('close', gone);
    // No request timeout on a stream that is meant to stay open.
    req.socket.setTimeout(0);
    this.clients.add(client);
    return true;
  }

  /** Sends to every client; one whose buffer is full misses it unless `always`. */
  send(event: string, data: unknown, always = false): void {
    if (this.clients.size === 0) return;
    this.broadcastRaw(format(event, data), always);
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private broadcastRaw(text: string, always: boolean): void {
    for (const c of this.clients) {
      if (c.blocked && !always) {
        this.skipped++;
        continue;
      }
      if (!c.res.write(text)) c.blocked = true;
    }
  }
}

function format(event: string, data: unknown): string {
  // JSON never contains a raw newline, so one data line per event.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
