// Page scripts that try to reach a listener on 127.0.0.1 without an HTTP request. Shared by the
// pool's guard suite and the browser-level control suite (where, unguarded, they do reach it).

/** WebRTC to a STUN server on `udpPort`. */
export const stunScript = (udpPort: number) => `{
  const pc = new RTCPeerConnection({ iceServers: [{ urls: 'stun:127.0.0.1:${udpPort}' }] });
  pc.createDataChannel('x');
  pc.createOffer().then((offer) => pc.setLocalDescription(offer));
}`;

/** WebRTC to a TURN server at `url` (e.g. `turn:127.0.0.1:3478?transport=tcp`). */
export const turnScript = (url: string) => `{
  const pc = new RTCPeerConnection({ iceServers: [{ urls: '${url}', username: 'u', credential: 'c' }] });
  pc.createDataChannel('x');
  pc.createOffer().then((offer) => pc.setLocalDescription(offer));
}`;

/** Two peer connections in the page; the first is told its peer is at 127.0.0.1:`udpPort` (ICE connectivity checks). */
export const remotePeerScript = (udpPort: number) => `(async () => {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.createDataChannel('x');
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  await a.addIceCandidate({ candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 ${udpPort} typ host', sdpMid: '0' });
})().catch((e) => console.log('peer setup: ' + e));`;

/** WebTransport (HTTP/3 over QUIC, so UDP) to `udpPort`. */
export const webTransportScript = (udpPort: number) => `try {
  new WebTransport('https://127.0.0.1:${udpPort}/wt').ready.catch(() => 0);
} catch (e) { console.log('webtransport: ' + e); }`;
