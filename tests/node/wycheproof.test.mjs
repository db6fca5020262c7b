// Project Wycheproof vectors, every vector of every file. The files are third-party data that
// cmake/fetch-wycheproof.sh fetches and verifies (tests/run.sh runs it); when it could not, every test here is
// skipped with its reason (t.skip), never passed without vectors.
// - "valid" must succeed with exactly the expected result;
// - "invalid" must be rejected: a thrown PushPeerError, or false from ecdsaVerify, or (HMAC) a different tag;
// - "acceptable" may go either way, but an accepted result must still be the expected one.
// Vectors outside what the core implements (AES-GCM other than 128-bit key / 96-bit IV / 128-bit tag) are counted
// as skipped, never dropped silently. Per file: total, passed, acceptable-accepted, acceptable-rejected, skipped.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import {
  expectCode, forEachFlavor, fromB64u, fromHex, leftPad, PushPeerError, readWycheproof, toHex, u8,
  wycheproofUnavailable,
} from './helpers.mjs';

const unavailable = wycheproofUnavailable();

const REJECTED = Symbol('rejected');

/** fn() → its value, or REJECTED for a PushPeerError (anything else — INTERNAL included — is rethrown). */
function attempt(fn) {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PushPeerError && typeof err.code === 'string' && err.code !== 'INTERNAL') return REJECTED;
    throw err;
  }
}

/**
 * Runs every test of a Wycheproof file. check(test, group) returns
 *   { skip: reason, detail } | { accepted: boolean, ok: boolean (accepted result is the expected one), got?: string }.
 */
function runFile(t, file, check) {
  if (unavailable) {
    t.skip(unavailable);
    return null;
  }
  const doc = readWycheproof(file);
  const counts = { total: 0, passed: 0, acceptableAccepted: 0, acceptableRejected: 0, skipped: 0, failed: 0 };
  const failures = [];
  const skipReasons = new Map();
  for (const group of doc.testGroups) {
    for (const test of group.tests) {
      counts.total++;
      let outcome;
      try {
        outcome = check(test, group);
      } catch (err) {
        counts.failed++;
        failures.push(`tcId ${test.tcId} (${test.result}, ${test.comment}): threw ${err?.constructor?.name}: ${err?.message}`);
        continue;
      }
      if (outcome.skip) {
        counts.skipped++;
        const details = skipReasons.get(outcome.skip) ?? new Map();
        details.set(outcome.detail, (details.get(outcome.detail) ?? 0) + 1);
        skipReasons.set(outcome.skip, details);
        continue;
      }
      const { accepted, ok } = outcome;
      let good;
      if (test.result === 'valid') good = accepted && ok;
      else if (test.result === 'invalid') good = !accepted;
      else if (test.result === 'acceptable') good = !accepted || ok;
      else good = false;
      if (!good) {
        counts.failed++;
        failures.push(`tcId ${test.tcId} (${test.result}, ${test.comment}, flags ${test.flags?.join('|')}): ` +
          `${accepted ? (ok ? 'accepted' : `accepted with a wrong result ${outcome.got ?? ''}`) : 'rejected'}`);
      } else if (test.result === 'acceptable') {
        if (accepted) counts.acceptableAccepted++;
        else counts.acceptableRejected++;
      } else {
        counts.passed++;
      }
    }
  }
  const summary = `${file}: total ${counts.total}, passed ${counts.passed}, acceptable-accepted ${counts.acceptableAccepted}, ` +
    `acceptable-rejected ${counts.acceptableRejected}, skipped ${counts.skipped}, failed ${counts.failed}`;
  t.diagnostic(summary);
  for (const [reason, details] of skipReasons) {
    const n = [...details.values()].reduce((a, c) => a + c, 0);
    const list = [...details].map(([d, c]) => `${d} ×${c}`).join(', ');
    t.diagnostic(`  skipped ${n}: ${reason} (${list})`);
  }
  assert.equal(counts.total, doc.numberOfTests, `${file}: numberOfTests in the header`);
  assert.equal(counts.passed + counts.acceptableAccepted + counts.acceptableRejected + counts.skipped + counts.failed,
    counts.total);
  assert.deepEqual(failures, [], `${file}: ${failures.length} vector(s) failed`);
  return counts;
}

/**
 * Wycheproof private keys are big-endian integers, sometimes with a leading 00 (ASN.1 sign byte): strip leading zero
 * bytes and left-pad to 32. Longer than 32 after stripping stays long (the core must reject it).
 */
function privateScalar(hex) {
  let bytes = fromHex(hex);
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  return bytes.length > 32 ? u8(bytes) : leftPad(bytes, 32);
}

/** ECDH outcome: accepted iff it returns; ok iff the secret is the expected one. */
function ecdhOutcome(fn, shared) {
  const r = attempt(fn);
  if (r === REJECTED) return { accepted: false, ok: false };
  return { accepted: true, ok: toHex(r) === shared, got: toHex(r) };
}

forEachFlavor((core) => {
  const t = core.testing;

  it('ecdh_secp256r1_test (DER SubjectPublicKeyInfo public keys)', (ctx) => {
    runFile(ctx, 'ecdh_secp256r1_test.json', (test) => {
      const priv = privateScalar(test.private);
      return ecdhOutcome(() => t.ecdh(priv, t.publicKeyFromSpki(fromHex(test.public))), test.shared);
    });
  });

  it('ecdh_secp256r1_webcrypto_test (JWK public keys: 0x04 || x || y)', (ctx) => {
    runFile(ctx, 'ecdh_secp256r1_webcrypto_test.json', (test) => {
      const pub = new Uint8Array([4, ...fromB64u(test.public.x), ...fromB64u(test.public.y)]);
      const priv = privateScalar(toHex(fromB64u(test.private.d)));
      return ecdhOutcome(() => t.ecdh(priv, pub), test.shared);
    });
  });

  it('ecdh_secp256r1_ecpoint_test (X9.62 point public keys)', (ctx) => {
    runFile(ctx, 'ecdh_secp256r1_ecpoint_test.json', (test) => {
      const priv = privateScalar(test.private);
      return ecdhOutcome(() => t.ecdh(priv, fromHex(test.public)), test.shared);
    });
  });

  it('ecdsa_secp256r1_sha256_p1363_test (verify)', (ctx) => {
    runFile(ctx, 'ecdsa_secp256r1_sha256_p1363_test.json', (test, group) => {
      const pub = fromHex(group.publicKey.uncompressed);
      const r = attempt(() => t.ecdsaVerify(pub, fromHex(test.msg), fromHex(test.sig)));
      if (r === REJECTED) return { accepted: false, ok: false };
      assert.equal(typeof r, 'boolean', 'ecdsaVerify returns a boolean');
      return { accepted: r, ok: r };
    });
  });

  it('aes_gcm_test (AES-128, 96-bit IV, 128-bit tag: seal and open)', (ctx) => {
    runFile(ctx, 'aes_gcm_test.json', (test, group) => {
      if (group.keySize !== 128 || group.ivSize !== 96 || group.tagSize !== 128) {
        return group.keySize !== 128
          ? { skip: 'AES-192/256 key (the core is AES-128 only)', detail: `AES-${group.keySize}` }
          : { skip: 'IV other than 96 bits (RFC 8188 nonces are 96 bits)', detail: `${group.ivSize}-bit IV` };
      }
      const [key, iv, aad, msg, ct, tag] = ['key', 'iv', 'aad', 'msg', 'ct', 'tag'].map((k) => fromHex(test[k]));
      const sealed = new Uint8Array([...ct, ...tag]);
      if (test.result === 'valid') {
        const s = attempt(() => t.aesGcmSeal(key, iv, aad, msg));
        if (s === REJECTED || toHex(s) !== toHex(sealed)) {
          return { accepted: s !== REJECTED, ok: false, got: s === REJECTED ? 'seal rejected' : `seal gave ${toHex(s)}` };
        }
      }
      let code;
      const opened = attempt(() => {
        try {
          return t.aesGcmOpen(key, iv, aad, sealed);
        } catch (err) {
          code = err?.code;
          throw err;
        }
      });
      if (opened === REJECTED) {
        // A rejected ciphertext must say why in the one code AES-GCM failures have.
        if (test.result === 'invalid') assert.equal(code, 'DECRYPT_FAILED', `tcId ${test.tcId}: code`);
        return { accepted: false, ok: false };
      }
      return { accepted: true, ok: toHex(opened) === test.msg, got: toHex(opened) };
    });
  });

  it('hkdf_sha256_test', (ctx) => {
    runFile(ctx, 'hkdf_sha256_test.json', (test) => {
      const [ikm, salt, info] = ['ikm', 'salt', 'info'].map((k) => fromHex(test[k]));
      const r = attempt(() => t.hkdfSha256(salt, ikm, info, test.size));
      if (r === REJECTED) return { accepted: false, ok: false };
      return { accepted: true, ok: toHex(r) === test.okm, got: toHex(r) };
    });
  });

  it('hmac_sha256_test (first tagSize/8 bytes)', (ctx) => {
    runFile(ctx, 'hmac_sha256_test.json', (test, group) => {
      const r = attempt(() => t.hmacSha256(fromHex(test.key), fromHex(test.msg)));
      if (r === REJECTED) return { accepted: false, ok: false };
      assert.equal(r.length, 32);
      // A MAC "accepts" a vector when its tag is the one given.
      const matches = toHex(r.subarray(0, group.tagSize / 8)) === test.tag;
      return { accepted: matches, ok: matches, got: toHex(r) };
    });
  });

  it('aes_gcm_test vectors with other key sizes are rejected, not mis-computed', (ctx) => {
    // The skipped AES-192/256 groups: the core's AES-GCM is AES-128 only and must say so.
    if (unavailable) {
      ctx.skip(unavailable);
      return;
    }
    const doc = readWycheproof('aes_gcm_test.json');
    for (const group of doc.testGroups.filter((g) => g.keySize !== 128)) {
      const test = group.tests[0];
      expectCode(() => t.aesGcmSeal(fromHex(test.key), fromHex(test.iv), fromHex(test.aad), fromHex(test.msg)),
        'BAD_ARGUMENT', `keySize ${group.keySize} ivSize ${group.ivSize}`);
    }
  });
}, { testing: true });
