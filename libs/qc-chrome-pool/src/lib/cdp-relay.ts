import type { Readable, Writable } from 'node:stream';
import type { ConnectionTransport } from 'puppeteer';
import { CdpPipeTransport } from './cdp-pipe.transport';

/**
 * A second DevTools client on one Chromium's pipe, for a process that does not hold the pipe yet.
 *
 * Chromium's pipe is one connection, read by one process. `Target.attachToBrowserTarget` gives a
 * second browser-level session on it; every command sent under that session, and every session
 * attached through it, is answered under the same session id, and Chromium writes a message's
 * top-level `sessionId` last. So the process that holds the pipe ({@link ChromeRelayHost}) passes
 * on each message whose session is the other client's, without parsing it, and writes what the
 * other client sends. The other client ({@link RelayedTransport}) is a puppeteer transport that puts
 * its browser-level session on every command and takes it off every answer: puppeteer sees a
 * browser of its own. When the pipe itself moves to the other process ({@link RelayedTransport.moveTo}),
 * the session ids stay valid, and nothing of the client's state has to be made again.
 */

/** `…,"sessionId":"<id>"}`: how every message of a session ends as Chromium writes it. */
const SESSION_TAIL = /,"sessionId":"([0-9A-Za-z]+)"\}$/;
const TAIL_CHARS = 96;
const ATTACHED = '{"method":"Target.attachedToTarget"';
const DETACHED = '{"method":"Target.detachedFromTarget"';
const CREATE_CONTEXT = '"method":"Target.createBrowserContext"';

/** The top-level session a message from Chromium belongs to; undefined for the connection's own (browser-level, no session). */
export function sessionOf(message: string): string | undefined {
  return SESSION_TAIL.exec(message.slice(-TAIL_CHARS))?.[1];
}

/**
 * One client's sessions (its browser-level session and every one attached through it, followed by
 * their attach and detach events), and the browser contexts it created.
 */
class ClientSessions {
  readonly ids: Set<string>;
  readonly contexts = new Set<string>();
  /** Ids of its `Target.createBrowserContext` commands whose answer has not come yet. */
  private readonly creating = new Set<number>();

  constructor(readonly root: string) {
    this.ids = new Set([root]);
  }

  /** A command the client sends (with its session on it). */
  sent(message: string): void {
    if (!message.includes(CREATE_CONTEXT)) return;
    const { id } = JSON.parse(message) as { id: number };
    this.creating.add(id);
  }

  /** Whether `message` from Chromium is this client's; follows its sessions and contexts. */
  owns(message: string): boolean {
    const session = sessionOf(message);
    if (session === undefined || !this.ids.has(session)) return false;
    if (message.startsWith(ATTACHED)) {
      this.ids.add((JSON.parse(message) as { params: { sessionId: string } }).params.sessionId);
    } else if (message.startsWith(DETACHED)) {
      this.ids.delete((JSON.parse(message) as { params: { sessionId: string } }).params.sessionId);
    } else if (this.creating.size > 0 && session === this.root && message.startsWith('{"id":')) {
      const answer = JSON.parse(message) as { id: number; result?: { browserContextId?: string } };
      if (this.creating.delete(answer.id) && answer.result?.browserContextId) this.contexts.add(answer.result.browserContextId);
    }
    return true;
  }

  /** `message` (one of the client's own) with the browser-level session taken off, as puppeteer's root connection expects it. */
  unwrap(message: string): string {
    const tail = `,"sessionId":"${this.root}"}`;
    return message.endsWith(tail) ? `${message.slice(0, -tail.length)}}` : message;
  }

  /** A command from puppeteer with the browser-level session put on when it names none. */
  wrap(message: string): string {
    return message.endsWith('}') && !SESSION_TAIL.test(message.slice(-TAIL_CHARS)) ? `${message.slice(0, -1)},"sessionId":"${this.root}"}` : message;
  }
}

/**
 * A client's browser-wide auto-attach (a `Target.setAutoAttach` that names no session) without
 * `waitForDebuggerOnStart`. With it, every new page of the browser, the other client's too, waits
 * until this client has let it run: a borrower stopped while its lender renders (a starting
 * successor yields to its predecessor's renders) held up each page the lender opened meanwhile. The
 * client's own pages are set up before they load anything anyway (they open on about:blank), and
 * what they attach to in turn (their frames, their workers) still waits for it.
 */
function noPauseForBrowser(message: string): string {
  if (!message.includes('"Target.setAutoAttach"')) return message;
  const command = JSON.parse(message) as { method: string; sessionId?: string; params?: { waitForDebuggerOnStart?: boolean } };
  if (command.method !== 'Target.setAutoAttach' || command.sessionId !== undefined || command.params?.waitForDebuggerOnStart !== true) return message;
  return JSON.stringify({ ...command, params: { ...command.params, waitForDebuggerOnStart: false } });
}

/** Ids of the host's own commands: far above puppeteer's (which count from 1), below Chromium's 32-bit limit. */
const HOST_ID_BASE = 2_000_000_000;

/**
 * The process that holds a Chromium's pipe, relaying for another process's client: opens a
 * browser-level session for it ({@link open}), passes on everything of its sessions in batches
 * (`forward`, once per read from the pipe), and writes what it sends ({@link fromClient}).
 */
export class ChromeRelayHost {
  private client: ClientSessions | undefined;
  private outbox: string[] = [];
  private readonly waiting = new Map<number, (message: string) => void>();
  private nextId = HOST_ID_BASE;

  constructor(
    private readonly pipe: CdpPipeTransport,
    private readonly forward: (batch: string[]) => void,
  ) {}

  /** Opens the other client's browser-level session; resolves with its id. */
  async open(): Promise<string> {
    if (this.client) return this.client.root;
    this.pipe.divert = (message) => this.route(message);
    const answer = JSON.parse(await this.command('Target.attachToBrowserTarget', {})) as { result?: { sessionId?: string }; error?: { message?: string } };
    const sessionId = answer.result?.sessionId;
    if (sessionId === undefined) throw new Error(`Chromium gave no second session: ${answer.error?.message ?? 'no session id in its answer'}`);
    this.client = new ClientSessions(sessionId);
    return sessionId;
  }

  /** Commands of the other client (each with one of its sessions on it), written to the pipe in order. */
  fromClient(batch: string[]): void {
    if (!this.client) return;
    for (const message of batch) {
      this.client.sent(message);
      this.pipe.send(message);
    }
  }

  /** Passes on at once what is waiting to go (before the pipe itself is passed on, so that it comes first). */
  private flush(): void {
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    this.forward(batch);
  }

  /** The pipe went to the other client's process ({@link RelayedTransport.moveTo}): nothing is relayed any more. */
  stop(): void {
    this.flush();
    this.client = undefined;
    if (this.waiting.size === 0) this.pipe.divert = undefined;
  }

  /**
   * The other client went away without taking the pipe (its process failed or ended): the browser
   * contexts it created are closed and its session detached. Never rejects.
   */
  async end(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.outbox = [];
    await Promise.all([
      ...[...client.contexts].map((browserContextId) => this.command('Target.disposeBrowserContext', { browserContextId })),
      this.command('Target.detachFromTarget', { sessionId: client.root }),
    ]).catch(() => undefined);
    if (this.waiting.size === 0) this.pipe.divert = undefined;
  }

  /** The contexts the other client created (for a test, and for what it leaves behind). */
  get clientContexts(): string[] {
    return [...(this.client?.contexts ?? [])];
  }

  private route(message: string): boolean {
    if (this.client?.owns(message)) {
      if (this.outbox.push(message) === 1) queueMicrotask(() => this.flush());
      return true;
    }
    // An answer to one of this host's own commands: the connection's own (no session), under one of its ids.
    if (this.waiting.size > 0 && sessionOf(message) === undefined) {
      const id = Number(/^\{"id":(\d+),/.exec(message)?.[1]);
      const waiter = this.waiting.get(id);
      if (waiter) {
        this.waiting.delete(id);
        waiter(message);
        return true;
      }
    }
    return false;
  }

  private command(method: string, params: object): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.pipe.send(JSON.stringify({ id, method, params }));
    });
  }
}

/**
 * The other client's puppeteer transport: its commands go to the process that holds the pipe
 * (`toHost`, batched per turn of the event loop) with its browser-level session on them, and what
 * that process passes on comes in through {@link deliver}. Once the pipe itself comes
 * ({@link moveTo}) it reads and writes the pipe; what another client of the pipe left (the
 * connection's own messages, other sessions) is dropped.
 */
export class RelayedTransport implements ConnectionTransport {
  onmessage?: (message: string) => void;
  onclose?: () => void;
  private readonly client: ClientSessions;
  private outbox: string[] = [];
  /** Commands held back while the pipe moves ({@link hold}). */
  private held: string[] | undefined;
  private piped: CdpPipeTransport | undefined;
  private closed = false;

  constructor(
    /** The browser-level session the host opened for this client (ChromeRelayHost.open). */
    readonly sessionId: string,
    private readonly toHost: (batch: string[]) => void,
  ) {
    this.client = new ClientSessions(sessionId);
  }

  /** The pipe's transport once it came ({@link moveTo}); undefined while relayed. */
  get pipe(): CdpPipeTransport | undefined {
    return this.piped;
  }

  /** The browser contexts this client created. */
  get contexts(): string[] {
    return [...this.client.contexts];
  }

  send(message: string): void {
    if (this.closed) return;
    const wrapped = this.client.wrap(noPauseForBrowser(message));
    this.client.sent(wrapped);
    if (this.piped) this.piped.send(wrapped);
    else if (this.held) this.held.push(wrapped);
    else if (this.outbox.push(wrapped) === 1) queueMicrotask(() => this.flush());
  }

  /** Messages the host passed on (in the order it read them). */
  deliver(batch: string[]): void {
    for (const message of batch) setImmediate(() => this.receive(message));
  }

  /** From now on commands wait here until the pipe comes ({@link moveTo}); what was sent before goes to the host first. */
  hold(): void {
    this.flush();
    this.held ??= [];
  }

  /** The pipe's two ends, and what the host had read of it but not yet as a whole message: this client reads and writes it from now on. */
  moveTo(toChrome: Writable, fromChrome: Readable, leftover?: Buffer): void {
    const piped = new CdpPipeTransport(toChrome, fromChrome, leftover);
    piped.onmessage = (message) => this.receive(message);
    piped.onclose = () => this.lost();
    this.piped = piped;
    this.flush();
    for (const message of this.held ?? []) piped.send(message);
    this.held = undefined;
  }

  /** The host went away before the pipe came: the browser is gone for this client. */
  lost(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }

  close(): void {
    this.closed = true;
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    if (this.piped) batch.forEach((message) => this.piped?.send(message));
    else this.toHost(batch);
  }

  private receive(message: string): void {
    if (this.closed || !this.client.owns(message)) return;
    this.onmessage?.(this.client.unwrap(message));
  }
}
