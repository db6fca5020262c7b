// core.sha256: the content hash of files and chunks (docs/PROTOCOL.md §8), against Node's OpenSSL and the
// FIPS 180-2 examples, in both Wasm flavours.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { forEachFlavor } from './helpers.mjs';

const hex = (bytes) => Buffer.from(bytes).toString('hex');

forEachFlavor((core) => {
  describe('sha256', () => {
    it('FIPS 180-2 examples', () => {
      assert.equal(hex(core.sha256('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      assert.equal(hex(core.sha256('')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      assert.equal(hex(core.sha256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')),
        '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    });

    it('equals OpenSSL for sizes around the block size and for 64 KiB and 1 MiB chunks', () => {
      for (const size of [1, 55, 56, 63, 64, 65, 119, 1000, 65536, 1 << 20]) {
        const data = randomBytes(size);
        assert.equal(hex(core.sha256(new Uint8Array(data))), createHash('sha256').update(data).digest('hex'), `${size}`);
      }
    });

    it('takes an ArrayBuffer, a view at an offset, or text (UTF-8)', () => {
      const data = randomBytes(300);
      const want = createHash('sha256').update(data.subarray(10, 210)).digest('hex');
      const view = new DataView(data.buffer, data.byteOffset + 10, 200);
      assert.equal(hex(core.sha256(view)), want);
      assert.equal(hex(core.sha256(new Uint8Array(data.subarray(10, 210)).buffer)), want);
      assert.equal(hex(core.sha256('héllo')), createHash('sha256').update('héllo', 'utf8').digest('hex'));
    });

    it('refuses what is not bytes', () => {
      for (const bad of [undefined, null, 42, {}, [1, 2]]) {
        assert.throws(() => core.sha256(bad), (e) => e.code === 'BAD_ARGUMENT');
      }
    });
  });
});
