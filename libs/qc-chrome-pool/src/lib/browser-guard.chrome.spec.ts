import puppeteer, { type Browser } from 'puppeteer';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../test-support/chrome-test-helpers';
import { startSpies, type Spies } from '../../test-support/spies';
import { remotePeerScript, stunScript, turnScript, webTransportScript } from '../../test-support/way-out-scripts';
import { NETWORK_GUARD_CHROME_ARGS, NETWORK_GUARD_PREFERENCES } from './network-guard';
import { removeProfile } from './profile-dir';
import { resolveChromePath } from './qc-config';

// Which browser-level setting stops which packets, each tried alone on plain Chromium (no pool, no
// in-page guard) against live listeners on 127.0.0.1. Chrome's own local-network-access check is
// granted, so it is not what stops anything here. Unguarded, the packets arrive (control: the
// spies can see them); --webrtc-ip-handling-policy and its profile preference stop WebRTC's UDP;
// TCP to a TURN server is what the dead proxy stops; --force-webrtc-ip-handling-policy, the switch
// many guides give, does not exist in this Chromium.
const SETTLE_MS = 2_000;
const PAGE_ORIGIN = 'https://way-out.invalid';

async function launch(args: readonly string[], preferences?: object): Promise<{ browser: Browser; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'qc-browser-guard-'));
  if (preferences) {
    mkdirSync(join(dir, 'Default'));
    writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify(preferences));
  }
  const browser = await puppeteer.launch({
    executablePath: resolveChromePath(undefined), headless: true, pipe: true, userDataDir: dir,
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false, args: ['--no-sandbox', '--disable-gpu', ...args],
  });
  return { browser, dir };
}

/** Runs `script` in a secure page of a fresh incognito context; returns what the spies saw while it settled. */
async function attempt(browser: Browser, spies: Spies, script: string): Promise<string[]> {
  const context = await browser.createBrowserContext();
  try {
    const permissions = ['localNetworkAccess', 'loopbackNetwork', 'localNetwork'] as const;
    await (await browser.target().createCDPSession()).send('Browser.grantPermissions', { origin: PAGE_ORIGIN, permissions: [...permissions], browserContextId: context.id });
    const page = await context.newPage();
    await page.setRequestInterception(true);
    page.on('request', (request) => void request.respond({ status: 200, contentType: 'text/html', body: '<title>way out</title>' }));
    await page.goto(`${PAGE_ORIGIN}/`);
    spies.seen.length = 0;
    await page.evaluate(script);
    // Unguarded, packets arrive within milliseconds; guarded, none may arrive in the whole window.
    await waitFor(() => spies.seen.length > 0, SETTLE_MS);
    return [...spies.seen];
  } finally {
    await context.close();
  }
}

const udp = (seen: string[]) => seen.some((s) => s.startsWith('UDP'));
const tcp = (seen: string[]) => seen.includes('TCP connection');
const POLICY = '--webrtc-ip-handling-policy=disable_non_proxied_udp';

describe.each([
  ['no guard at all (control)', [], undefined, { udp: true, turnTcp: true }],
  ['--force-webrtc-ip-handling-policy alone (ignored by this Chromium)', ['--force-webrtc-ip-handling-policy=disable_non_proxied_udp'], undefined, { udp: true, turnTcp: true }],
  [`${POLICY} alone`, [POLICY], undefined, { udp: false, turnTcp: true }],
  ['the webrtc.ip_handling_policy profile preference alone', [], NETWORK_GUARD_PREFERENCES, { udp: false, turnTcp: true }],
  ["the pool's browser flags (policy and dead proxy)", NETWORK_GUARD_CHROME_ARGS, undefined, { udp: false, turnTcp: false }],
] as const)('WebRTC on plain Chromium with %s', (_name, args, preferences, leaks) => {
  let spies: Spies;
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    spies = await startSpies();
    ({ browser, dir } = await launch(args, preferences));
  });
  afterAll(async () => {
    await browser.close();
    removeProfile(dir); // with the singleton directory Chromium left in /tmp
    await spies.close();
  });

  it(`${leaks.udp ? 'lets' : 'stops'} a STUN binding request to the UDP listener`, async () => {
    expect(udp(await attempt(browser, spies, stunScript(spies.udpPort)))).toBe(leaks.udp);
  });

  it(`${leaks.udp ? 'lets' : 'stops'} ICE connectivity checks to a peer at 127.0.0.1`, async () => {
    expect(udp(await attempt(browser, spies, remotePeerScript(spies.udpPort)))).toBe(leaks.udp);
  });

  it(`${leaks.udp ? 'lets' : 'stops'} a TURN allocation over UDP`, async () => {
    expect(udp(await attempt(browser, spies, turnScript(`turn:127.0.0.1:${spies.udpPort}?transport=udp`)))).toBe(leaks.udp);
  });

  it(`${leaks.turnTcp ? 'lets' : 'stops'} a TURN connection over TCP`, async () => {
    expect(tcp(await attempt(browser, spies, turnScript(`turn:127.0.0.1:${spies.tcpPort}?transport=tcp`)))).toBe(leaks.turnTcp);
  });
});

describe.each([
  ['no proxy (control)', [], true],
  ["the pool's dead proxy", NETWORK_GUARD_CHROME_ARGS, false],
] as const)('WebTransport on plain Chromium with %s', (_name, args, leaks) => {
  it(`${leaks ? 'lets' : 'stops'} QUIC packets to the UDP listener`, async () => {
    const spies = await startSpies();
    const { browser, dir } = await launch(args);
    try {
      expect(udp(await attempt(browser, spies, webTransportScript(spies.udpPort)))).toBe(leaks);
    } finally {
      await browser.close();
      removeProfile(dir); // with the singleton directory Chromium left in /tmp
      await spies.close();
    }
  });
});
