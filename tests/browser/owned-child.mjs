// A child process the test owns: killed when this process exits (even without after(); browsers.mjs turns
// SIGINT/SIGTERM into process.exit), and stop() ends it gently, then for good after 3 s.
const STOP_GRACE_MS = 3000;

/** { exited (a promise), stop() } for a spawned child. */
export function ownChild(child) {
  const exited = new Promise((r) => child.once('exit', r));
  const killAtExit = () => child.kill('SIGKILL');
  process.once('exit', killAtExit);
  const stop = async () => {
    process.off('exit', killAtExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
  };
  return { exited, stop };
}
