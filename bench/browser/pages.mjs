// Helpers the browser benchmarks share, on the app pages of tests/browser/app/.

/**
 * Closes the connection of `sessionId` (null: every connection) in this page, with app.close when the app has
 * it, waits until its RTCPeerConnection is closed, and drops the app's entry: PushPeer forgets a connection on
 * 'close', so nothing in the page keeps it (or its RTCPeerConnection) alive afterwards.
 */
export function closeAndDrop(app, sessionId) {
  return app.page.evaluate(async (sid) => {
    const { state } = window.app;
    const entries = state.connections.filter((c) => sid === null || c.connection?.sessionId === sid);
    let closed = true;
    for (const entry of entries) {
      const i = state.connections.indexOf(entry);
      if (typeof window.app.close === 'function') window.app.close(i);
      else entry.connection.close();
      const t0 = Date.now();
      while (entry.connection.pc.signalingState !== 'closed' && Date.now() - t0 < 5000) {
        await new Promise((r) => setTimeout(r, 20));
      }
      closed &&= entry.connection.pc.signalingState === 'closed';
      state.connections.splice(state.connections.indexOf(entry), 1);
    }
    return { found: entries.length > 0, closed, live: state.peer.connections.size };
  }, sessionId);
}
