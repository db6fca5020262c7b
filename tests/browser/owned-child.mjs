// A child process the test owns: killed when this process exits (even without after(); browsers.mjs turns
// SIGINT/SIGTERM into process.exit), and stop() ends it gently, then for good after graceMs.

/** { exited (resolves to { code, signal }), stop() } for a spawned child. */
export function ownChild(child, { graceMs = 3000 } = {}) {
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const killAtExit = () => child.kill('SIGKILL');
  process.once('exit', killAtExit);
  const stop = async () => {
    process.off('exit', killAtExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  };
  return { exited, stop };
}
