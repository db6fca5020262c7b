// Which push this browser gets: its own push service (reachable even with the tab closed), or, when that does not
// work (subscribe() never settles offline, notifications are blocked, the browser has push turned off), call-only
// mode: a push service that keeps a line open to this page (js/push/page-push.js), so that the answers to our calls
// reach us and people can call us while this tab is open. A failure is remembered, so that the next visit does not
// wait for the push service again: it starts in call-only mode at once and offers to try again.
import { loadCore } from '../js/core.js';
import { PushPeer } from '../js/index.js';
import { openPagePush } from '../js/push/page-push.js';

const FAILURE_KEY = 'pushpeer-demo-push-failure';
const CREATE_TIMEOUT_MS = 20_000; // a browser whose push service is unreachable never settles subscribe()
const REMEMBER_MS = 24 * 3600 * 1000; // a failure is trusted this long; then the push service gets another try

const REASONS = {
  TIMEOUT: "This browser's push service does not answer (the browser may be offline, or its push service blocked).",
  PERMISSION_DENIED: 'Notifications are blocked for this site, so this browser cannot receive pushes.',
  SUBSCRIBE_FAILED: "This browser's push service refused to give this page a push address.",
  NOT_SUPPORTED: 'This browser has no push service.',
};

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer in ${ms} ms`), { code: 'TIMEOUT' })), ms);
  })]).finally(() => clearTimeout(timer));
}

export class PushMode {
  /** registration: the demo's service worker; pagePushUrl: the WebSocket push service for call-only mode. */
  constructor({ registration, pagePushUrl = '', timeoutMs = globalThis.pushpeerDemoPushWaitMs ?? CREATE_TIMEOUT_MS }) {
    this.registration = registration;
    this.pagePushUrl = pagePushUrl;
    this.timeoutMs = timeoutMs;
    this.callOnly = false;
    this.reason = '';
  }

  /** A PushPeer with the browser's push, or in call-only mode; fails when neither works. */
  async create(options) {
    const failure = this._failure();
    if (failure && !options.subscribe && !(await this._hasSubscription())) return this._callOnly(options, failure);
    const creating = PushPeer.create(options);
    try {
      return await withTimeout(creating, this.timeoutMs);
    } catch (error) {
      if (!REASONS[error?.code]) throw error;
      // A push service that answers after all must not leave a second PushPeer running beside ours.
      creating.then((late) => late.close(), () => {});
      this._remember(REASONS[error.code]);
      return this._callOnly(options, REASONS[error.code]);
    }
  }

  forgetFailure() {
    localStorage.removeItem(FAILURE_KEY);
  }

  async _callOnly(options, reason) {
    this.callOnly = true;
    this.reason = reason;
    if (!this.pagePushUrl) {
      throw Object.assign(new Error('no push service for call-only mode'), { code: 'NO_PUSH' });
    }
    const core = options.core ?? await loadCore();
    this.channel = await openPagePush({ url: this.pagePushUrl, core });
    return PushPeer.create({ ...options, core, subscribe: this.channel.subscribe });
  }

  async _hasSubscription() {
    try {
      return Boolean(await withTimeout(this.registration.pushManager.getSubscription(), 2000));
    } catch {
      return false;
    }
  }

  _failure() {
    try {
      const saved = JSON.parse(localStorage.getItem(FAILURE_KEY) ?? 'null');
      return saved && Date.now() - saved.at < REMEMBER_MS ? saved.reason : null;
    } catch {
      return null;
    }
  }

  _remember(reason) {
    localStorage.setItem(FAILURE_KEY, JSON.stringify({ at: Date.now(), reason }));
  }
}
