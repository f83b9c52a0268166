import type { QcPool, QcReport } from '../index';
import { job, launchTestPool } from '../../test-support/chrome-test-helpers';
import { startSpies, type Spies } from '../../test-support/spies';
import { remotePeerScript, stunScript, turnScript, webTransportScript } from '../../test-support/way-out-scripts';

// The ways out that are not a request interception can stop: WebRTC (UDP and TCP to ICE servers
// and peers), WebSocket, WebTransport (QUIC), shared workers, connection hints. Each runs against
// a live TCP and a live UDP listener on 127.0.0.1 that must see nothing, and each attempt is listed.
describe('network guard on real Chromium: sockets and other non-HTTP channels', () => {
  let pool: QcPool;
  let spies: Spies;

  beforeAll(async () => {
    spies = await startSpies();
    pool = await launchTestPool({ settleMs: 1_000 });
  });
  afterAll(async () => {
    await pool.close();
    await spies.close();
  });
  afterEach(() => {
    expect(spies.seen).toEqual([]);
  });

  const blocked = (report: QcReport, reason: string) =>
    report.blockedRequests.filter((b) => b.reason.includes(reason)).map((b) => b.url).sort();
  // browser-guard.chrome.spec.ts shows the same scripts reaching these listeners on unguarded Chromium.
  it('sends no STUN binding request to a UDP server and lists the stun: URL', async () => {
    const report = await pool.check(job(`<script>${stunScript(spies.udpPort)}</script>`));
    expect(blocked(report, 'WebRTC')).toEqual([`stun:127.0.0.1:${spies.udpPort}`]);
  });

  it('reaches no TURN server over UDP or TCP and lists both turn: URLs', async () => {
    const udp = `turn:127.0.0.1:${spies.udpPort}?transport=udp`;
    const tcp = `turn:127.0.0.1:${spies.tcpPort}?transport=tcp`;
    const report = await pool.check(job(`<script>${turnScript(udp)}${turnScript(tcp)}</script>`));
    expect(blocked(report, 'WebRTC')).toEqual([tcp, udp].sort());
  });

  it('sends no connectivity check to a peer at 127.0.0.1 and lists the peer connections', async () => {
    const report = await pool.check(job(`<script>${remotePeerScript(spies.udpPort)}</script>`));
    expect(blocked(report, 'WebRTC')).toEqual(['webrtc:peer-connection']);
  });

  it('sends nothing from a peer connection made in an iframe or set up by setConfiguration', async () => {
    const report = await pool.check(
      job(`<iframe id="f" src="about:blank"></iframe><script>
        const Frame = document.getElementById('f').contentWindow.RTCPeerConnection;
        const pc = new Frame({ iceServers: [{ urls: 'stun:127.0.0.1:${spies.udpPort}' }] }); pc.createDataChannel('x');
        pc.createOffer().then((o) => pc.setLocalDescription(o));
        const later = new RTCPeerConnection(); later.setConfiguration({ iceServers: [{ urls: 'stun:127.0.0.2:${spies.udpPort}' }] });
        later.createDataChannel('y'); later.createOffer().then((o) => later.setLocalDescription(o));
      </script>`),
    );
    expect(blocked(report, 'WebRTC')).toEqual([`stun:127.0.0.1:${spies.udpPort}`, `stun:127.0.0.2:${spies.udpPort}`, 'webrtc:peer-connection']);
  });

  it('opens no WebSocket, from the page or from a worker, and lists both', async () => {
    const page = `ws://127.0.0.1:${spies.tcpPort}/page`;
    const worker = `ws://127.0.0.1:${spies.tcpPort}/worker`;
    const report = await pool.check(
      job(`<script>new WebSocket('${page}'); new WebSocket('wss://localhost:${spies.tcpPort}/tls');
        new Worker(URL.createObjectURL(new Blob(["new WebSocket('${worker}')"], { type: 'text/javascript' })));</script>`),
    );
    expect(blocked(report, 'WebSocket')).toEqual([page, `wss://localhost:${spies.tcpPort}/tls`, worker].sort());
  });

  it('sends no QUIC packet for WebTransport and lists the attempt', async () => {
    const url = `https://127.0.0.1:${spies.udpPort}/wt`;
    const report = await pool.check(job(`<script>${webTransportScript(spies.udpPort)}</script>`));
    expect(blocked(report, 'WebTransport')).toEqual([url]);
    expect(report.consoleErrors).toEqual([]); // Chrome's own line about it is not repeated
  });

  it('refuses shared workers, whose requests cannot be inspected, and lists the attempt', async () => {
    const report = await pool.check(
      job(`<script>try { new SharedWorker('data:text/javascript,fetch("http://127.0.0.1:${spies.tcpPort}/sw")') }
        catch (e) { console.error(e.name) }</script>`),
    );
    expect(blocked(report, 'shared workers')).toEqual([`data:text/javascript,fetch("http://127.0.0.1:${spies.tcpPort}/sw")`]);
    expect(report.consoleErrors.map((e) => e.text)).toEqual(['SecurityError']);
  });

  it('lists preconnect, dns-prefetch and speculation-rule hints and connects to none of them', async () => {
    const local = `http://127.0.0.1:${spies.tcpPort}`;
    const report = await pool.check(
      job(`<link rel="preconnect" href="${local}"><link rel="dns-prefetch" href="//localhost:${spies.tcpPort}">
        <script type="speculationrules">{"prerender": [{"source": "list", "urls": ["${local}/pr"]}],
          "prefetch": [{"source": "list", "urls": ["${local}/pf"]}]}</script>`),
    );
    expect(blocked(report, 'network access')).toEqual([`${local}/`, `${local}/pf`, `${local}/pr`, `https://localhost:${spies.tcpPort}/`].sort());
  });

  it('registers no service worker, even from a blob: URL', async () => {
    const report = await pool.check(
      job(`<script>navigator.serviceWorker.register(URL.createObjectURL(new Blob([''], { type: 'text/javascript' })))
        .then(() => console.error('registered'), (e) => console.error('refused'))</script>`),
    );
    expect(report.consoleErrors.map((e) => e.text)).toEqual(['refused']);
  });
});
