// Types for js/core.js: the pushpeer Wasm core (Web Push encryption, VAPID, push requests).

/** Bytes: a Uint8Array; where a PushSubscription carries base64url text, that text is accepted too. */
export type BytesLike = Uint8Array | string;

/** Stable error codes. Match on `.code`, never on the message. */
export type PushPeerErrorCode =
  | 'BAD_ARGUMENT' | 'BAD_BASE64' | 'BAD_KEY' | 'DECRYPT_FAILED'
  | 'ECE_TRUNCATED_HEADER' | 'ECE_BAD_RECORD_SIZE' | 'ECE_BAD_KEY_ID' | 'ECE_TRUNCATED_RECORD'
  | 'ECE_BAD_PADDING' | 'ECE_BAD_DELIMITER' | 'ECE_TRUNCATED_MESSAGE'
  | 'BAD_JWT' | 'BAD_SIGNATURE' | 'BAD_EXPIRATION' | 'BAD_SUBJECT' | 'BAD_ENDPOINT' | 'BAD_SUBSCRIPTION'
  | 'PAYLOAD_TOO_LARGE' | 'BAD_TTL' | 'BAD_URGENCY' | 'BAD_TOPIC' | 'INTERNAL' | 'CORE_LOAD_FAILED'
  | 'BAD_SDP' | 'BAD_PACKED_SDP' | 'UNSUPPORTED_VERSION' | 'BAD_CARD' | 'BAD_ENVELOPE' | 'UNKNOWN_SENDER'
  | 'STALE_MESSAGE' | 'REPLAYED_MESSAGE' | 'NO_USABLE_GRANT' | 'WRONG_RECIPIENT' | 'REPLAY_GUARD_FULL' | 'BAD_TEXT'
  | 'BAD_MANIFEST' | 'BAD_PROOF' | 'CHUNK_MISMATCH' | 'BAD_FRAME';

export class PushPeerError extends Error {
  readonly name: 'PushPeerError';
  readonly code: PushPeerErrorCode;
  constructor(code: PushPeerErrorCode, message?: string);
}

export interface VapidKeys {
  /** 65-byte uncompressed P-256 point. */
  publicKey: Uint8Array;
  /** 32-byte scalar. Keep it secret. */
  privateKey: Uint8Array;
}

export interface PushSubscriptionLike {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  expirationTime?: number | null;
}

export interface PushRequest {
  endpoint: string;
  method: 'POST';
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface VapidClaims { aud: string; exp: number; sub: string }

/** A pre-signed VAPID signature: lets its holder push to the grantor until exp (seconds). */
export interface Grant { exp: number; signature: Uint8Array }

export interface DecodedCard {
  created: number;
  endpoint: string;
  p256dh: Uint8Array;
  auth: Uint8Array;
  /** The owner's identity (VAPID) public key, 65 bytes. */
  identity: Uint8Array;
  /** 8-byte id envelopes use for a known sender. */
  keyId: Uint8Array;
  subject: string;
  name: string;
  grants: Grant[];
}

/** Envelope types (docs/PROTOCOL.md §4); any other type is refused. */
export type EnvelopeType = 'offer' | 'answer' | 'bye' | 'card';

export interface OpenedEnvelope {
  type: number;
  typeName: EnvelopeType;
  /** The sender's 8-byte key id. */
  sender: Uint8Array;
  senderKey: Uint8Array;
  /** Our key id: the envelope names it (signed), or it was refused with WRONG_RECIPIENT. */
  recipient: Uint8Array;
  /** Answers and byes: envelopeReference() of the offer they answer. */
  ref: Uint8Array | null;
  /** The sender's card when it was attached (first contact). */
  card: DecodedCard | null;
  /** The attached card's bytes (verified), to keep and push back with. */
  cardBytes: Uint8Array | null;
  sessionId: Uint8Array;
  sequence: number;
  timestamp: number;
  body: Uint8Array;
}

/** Card bytes, base64url text, or a link containing #card=<text>. */
export type CardLike = Uint8Array | string;

/** The protocol's numbers, from the core (so that nothing in JS repeats them). */
export interface CoreLimits {
  maxPayload: number; maxEnvelopeBody: number; maxEnvelopeText: number; maxCard: number; maxEndpoint: number;
  maxSubject: number; maxName: number; maxSdp: number; maxJwt: number; maxTtl: number;
  envelopeMaxAge: number; envelopeMaxSkew: number; keyIdLength: number; sessionIdLength: number; refLength: number;
  envelopeTypes: Readonly<Record<EnvelopeType, number>>;
  /** The largest push body (4096 bytes): what openFromPeer takes. */
  maxPushBody: number;
  /** A group secret's bounds (16 and 64 bytes), and the lengths of a group id and a membership proof (16 each). */
  minGroupSecret: number; maxGroupSecret: number; groupIdLength: number; groupProofLength: number;
  /**
   * Share by link (docs/PROTOCOL.md §9): leaf size (16384), file size (64 GiB), leaves per range (64), frame, manifest;
   * leaves per piece (8, what have frames count in) and pieces per file (2^19).
   */
  content: Readonly<{ leafSize: number; maxSize: number; maxRangeLeaves: number; maxFrameLength: number;
    maxDataHeadLength: number; maxManifestLength: number; maxFiles: number; maxTitleLength: number;
    maxFileNameLength: number; maxTypeLength: number; pieceLeaves: number; maxPieces: number;
    maxSiteManifestLength: number }>;
}

/** A file's merkle tree (docs/PROTOCOL.md §9.1): its root, size and 2n - 1 node hashes (64 bytes per leaf). */
export interface ContentTree {
  root: Uint8Array;
  size: number;
  nodes: Uint8Array;
}

/** A streaming hasher (contentHasher()): held in the Wasm heap until finished or released. */
export interface ContentHasher {
  /** Adds bytes (at most 16 MiB a call); returns the total so far. */
  update(bytes: Uint8Array | ArrayBuffer): number;
  /** The tree; the hasher is released. */
  finish(): ContentTree;
  release(): void;
}

/** A tree loaded for serving (contentTree()). */
export interface LoadedContentTree {
  /** The data frame answering `request` with leaves [first, first + count) of `file`; `bytes` exactly their content. */
  encodeData(request: number, file: number, first: number, count: number, bytes: Uint8Array): Uint8Array;
  /**
   * The bytes of that frame before its data, for `length` bytes of content (at most limits.content.maxDataHeadLength
   * of them): the frame is they followed by the content.
   */
  encodeDataHead(request: number, file: number, first: number, count: number, length: number): Uint8Array;
  release(): void;
}

export type ContentFrameType = 'get-manifest' | 'manifest' | 'get' | 'data' | 'error' | 'cancel' | 'have' | 'get-have';
export type ContentErrorCode = 'not-found' | 'busy' | 'bad-request' | 'unavailable';

export interface ContentFrame {
  type: ContentFrameType;
  request: number;
  share?: Uint8Array;
  file?: number;
  first?: number;
  count?: number;
  manifest?: Uint8Array;
  code?: ContentErrorCode;
  /** have: piece first + i is held when bit i is set (the high bit of bits[0] first). */
  bits?: Uint8Array;
}

export interface ManifestFile {
  /** A relative path of displayable text. */
  name: string;
  size: number;
  /** A MIME type or ''. */
  type: string;
  root: Uint8Array;
}

export interface OpenedManifest {
  id: Uint8Array;
  created: number;
  /** The sharer's 65-byte identity key and its 8-byte key id. */
  sharer: Uint8Array;
  sharerKeyId: Uint8Array;
  title: string;
  files: ManifestFile[];
}

export interface Core {
  /** Largest plaintext that fits one push (3993 bytes). */
  readonly maxPayloadLength: number;
  readonly limits: Readonly<CoreLimits>;
  /** Every status name the core can return ('OK' and the PushPeerError codes it makes). */
  readonly statusNames: readonly string[];
  /** How many times the Wasm instance was replaced after a trap (its in-memory state, e.g. the replay guard, is new). */
  readonly generation: number;
  /** Resolves once the core is usable again after a trap (it reloads itself; calls fail with INTERNAL meanwhile). */
  ready(): Promise<Core>;
  generateVapidKeys(): VapidKeys;
  /** Checks a 32-byte private key and derives its public key. */
  vapidKeysFromPrivate(privateKey: BytesLike): VapidKeys;
  /** `vapid t=<jwt>, k=<key>`; expiration in seconds since the epoch, default now + 12 h, at most now + 24 h. */
  vapidAuthorization(options: {
    endpoint: string; subject: string; publicKey: BytesLike; privateKey: BytesLike; expiration?: number;
  }): string;
  /** Verifies an ES256 JWT and returns its claims (does not check exp against the clock). */
  verifyVapidJwt(jwt: string, publicKey: BytesLike): VapidClaims;
  /** RFC 8291 aes128gcm body for a subscription's keys: one record, fresh ephemeral key and salt. */
  encrypt(options: {
    p256dh: BytesLike; auth: BytesLike; plaintext: Uint8Array | string; recordSize?: number; padding?: number;
  }): Uint8Array;
  /** Receiver side of RFC 8291. */
  decrypt(options: { privateKey: BytesLike; publicKey: BytesLike; auth: BytesLike; body: Uint8Array }): Uint8Array;
  buildPushRequest(options: {
    subscription: PushSubscriptionLike | string;
    payload: Uint8Array | string;
    vapidKeys: VapidKeys;
    subject: string;
    /** seconds, default 2419200 (28 days) */
    ttl?: number;
    urgency?: 'very-low' | 'low' | 'normal' | 'high';
    topic?: string;
  }): PushRequest;
  /** SDP text -> compact bytes, lossless (a data-channel offer from a browser packs to about 100-120 bytes). */
  packSdp(sdp: string): Uint8Array;
  /** Inverse of packSdp: the exact text. */
  unpackSdp(packed: Uint8Array): string;
  issueGrants(options: {
    privateKey: BytesLike; endpoint: string; subject: string;
    /** default 4, at most 16 */ count?: number;
    /** seconds between expirations, default 72000 (20 h) */ interval?: number;
    /** default now + interval */ firstExpiration?: number;
  }): Grant[];
  createCard(options: {
    identity: { privateKey: BytesLike; publicKey?: BytesLike };
    subscription: PushSubscriptionLike | string;
    subject: string;
    name?: string;
    grants?: Grant[];
    created?: number;
  }): { bytes: Uint8Array; text: string };
  decodeCard(card: CardLike): DecodedCard;
  /** Everything a push to the card's owner needs, from one verification of the card. */
  grantAuthorization(card: CardLike, options?: { now?: number }): {
    authorization: string; exp: number; endpoint: string; p256dh: Uint8Array; auth: Uint8Array;
  };
  sealEnvelope(options: {
    type: EnvelopeType | number; privateKey: BytesLike;
    /** the recipient's 8-byte key id (bytes or base64url) */ recipient: BytesLike;
    body?: Uint8Array | string;
    /** 8 bytes, random by default */ sessionId?: Uint8Array; sequence?: number; timestamp?: number;
    /** answers and byes: envelopeReference() of the offer they answer */ ref?: Uint8Array;
    /** attach our card (first contact; card envelopes) */ card?: CardLike;
  }): Uint8Array;
  /** Text mode: the envelope as base64url, at most 4096 characters (else PAYLOAD_TOO_LARGE). */
  sealEnvelope(options: {
    type: EnvelopeType | number; privateKey: BytesLike; recipient: BytesLike; body?: Uint8Array | string;
    sessionId?: Uint8Array; sequence?: number; timestamp?: number; ref?: Uint8Array; card?: CardLike; text: true;
  }): string;
  /** Bytes, or the base64url text form, addressed to `self`. */
  openEnvelope(envelope: Uint8Array | string, options: {
    /** our 8-byte key id (bytes or base64url), or our 65-byte identity key */ self: BytesLike;
    now?: number;
    /** public key (65 bytes) of a known sender, by base64url key id */
    peers?: ((keyId: string) => Uint8Array | undefined) | Map<string, Uint8Array> | Record<string, Uint8Array>;
    /** check and record replays (default true) */ replay?: boolean;
    /** seconds, default 600 */ maxAge?: number;
    /** seconds, default 120 */ maxSkew?: number;
  }): OpenedEnvelope;
  /** Who an envelope says it is from, not verified: to look up a known sender's key before openEnvelope. */
  envelopeSender(envelope: Uint8Array | string): { keyId: string; hasCard: boolean };
  /** The 16 bytes naming an envelope (an answer's or a bye's `ref` to the offer). */
  envelopeReference(envelope: Uint8Array): Uint8Array;
  /** The push Topic for an envelope (16 base64url characters; the session id itself never appears). */
  pushTopic(type: EnvelopeType | number, recipient: BytesLike, sessionId: Uint8Array): string;
  /** The 8-byte key id of a 65-byte identity key. */
  keyIdOf(identity: BytesLike): Uint8Array;
  /**
   * An envelope sealed for a neighbour to carry to the owner of `recipientIdentity` (a card's 65-byte identity key):
   * an RFC 8291 aes128gcm body only that key opens (docs/PROTOCOL.md §4.1). At most 3993 bytes of envelope.
   */
  sealForPeer(options: { envelope: Uint8Array; recipientIdentity: BytesLike }): Uint8Array;
  /** Opens a sealForPeer body with our identity key pair: the envelope, still to be verified with openEnvelope. */
  openFromPeer(options: { body: Uint8Array; privateKey: BytesLike; publicKey: BytesLike }): Uint8Array;
  /**
   * A group's public 16-byte id: HMAC-SHA256(secret, "pushpeer/group/v1/id")[0..16] (docs/PROTOCOL.md §7.8). The
   * secret is 16 to 64 bytes (or base64url text), else BAD_ARGUMENT.
   */
  groupId(secret: BytesLike): Uint8Array;
  /**
   * The 16-byte proof that the holder of `secret` vouches for the identity key `keyId` (8 bytes or base64url):
   * HMAC-SHA256(secret, "pushpeer/group/v1/member" || keyId)[0..16]. BAD_ARGUMENT for a bad secret or key id.
   */
  groupProof(options: { secret: BytesLike; keyId: BytesLike }): Uint8Array;
  /** Whether `proof` is keyId's proof (constant time); a proof of any other length is false, not an error. */
  checkGroupProof(options: { secret: BytesLike; keyId: BytesLike; proof: BytesLike }): boolean;
  /** Bytes of the Wasm instance's memory (it grows and never shrinks). */
  readonly heapBytes: number;
  saveReplayState(): Uint8Array;
  restoreReplayState(state: Uint8Array): void;
  /** A streaming BLAKE2b merkle hasher over 16 KiB leaves (docs/PROTOCOL.md §9.1). */
  contentHasher(): ContentHasher;
  /** Loads a stored tree for serving: every parent and the root recomputed (CHUNK_MISMATCH if it was altered). */
  contentTree(tree: ContentTree): LoadedContentTree;
  /** The tree over verified leaf hashes (32 bytes each, in order), which must lead to `root` (else CHUNK_MISMATCH). */
  contentTreeFromLeaves(options: { size: number; leaves: Uint8Array; root: Uint8Array }): ContentTree;
  decodeContentFrame(frame: Uint8Array | ArrayBuffer): ContentFrame;
  encodeContentFrame(frame: { type: 'get-manifest' | 'get' | 'error' | 'cancel' | 'get-have'; request: number;
    share?: Uint8Array; file?: number; first?: number; count?: number; code?: ContentErrorCode } |
    { type: 'have'; request: number; share: Uint8Array; file: number; first: number; count: number; bits: Uint8Array }): Uint8Array;
  /** A data frame from a proof kept from an earlier one (openContentData's `proof`): a piece served before its tree is here. */
  encodeDataWithProof(options: { request: number; file: number; first: number; count: number; proof: Uint8Array;
    bytes: Uint8Array }): Uint8Array;
  encodeManifestFrame(request: number, manifest: Uint8Array): Uint8Array;
  /**
   * Checks a data frame answering leaves [first, first + count) of `file` (root, size): the verified bytes (a view of
   * `frame`, which must then stay as it is) and their leaf hashes; BAD_FRAME (another range), BAD_PROOF (wrong lengths), CHUNK_MISMATCH (they do not lead to the root).
   */
  openContentData(options: { frame: Uint8Array | ArrayBuffer; root: Uint8Array; size: number; file: number;
    first: number; count: number }): { data: Uint8Array; leaves: Uint8Array; proof: Uint8Array };
  /** Signs a share manifest (docs/PROTOCOL.md §9.3); BAD_TEXT for a name that is not a safe relative path. */
  createManifest(options: { privateKey: Uint8Array; created?: number; title?: string;
    files: Array<{ name: string; size: number; type?: string; root: Uint8Array }> }): Uint8Array;
  /** Decodes and verifies a manifest; with `id`, another share's manifest is BAD_MANIFEST. */
  openManifest(manifest: Uint8Array, options?: { id?: Uint8Array }): OpenedManifest;
  /** BLAKE2b-256 of the manifest without its signature: what a share link names. */
  manifestId(manifest: Uint8Array): Uint8Array;
  /**
   * Signs a site manifest (docs/PROTOCOL.md §10): a record with the version, then a share manifest of the files,
   * both signed by the publisher's key. BAD_ARGUMENT for version 0; createManifest's errors for the files.
   */
  createSiteManifest(options: { privateKey: Uint8Array; version: number; created?: number; title?: string;
    files: Array<{ name: string; size: number; type?: string; root: Uint8Array }> }): Uint8Array;
  /** Decodes a site manifest and verifies both signatures; BAD_MANIFEST otherwise. The publisher is the caller's to pin. */
  openSiteManifest(bytes: Uint8Array): { version: number; created: number; publisher: Uint8Array;
    publisherKeyId: Uint8Array; manifest: OpenedManifest; manifestBytes: Uint8Array };
  /** SHA-256 (content hashes of files and chunks; docs/PROTOCOL.md §8). */
  sha256(data: Uint8Array | ArrayBuffer | ArrayBufferView | string): Uint8Array;
  base64urlEncode(bytes: Uint8Array): string;
  base64urlDecode(text: string): Uint8Array;
  /** Primitives and deterministic entry points for test vectors: only on the 'testing' and 'debug' flavours. */
  readonly testing?: CoreTesting;
}

export interface CoreTesting {
  encryptWithKeys(options: {
    p256dh: BytesLike; auth: BytesLike; plaintext: Uint8Array; senderPrivateKey: BytesLike;
    senderPublicKey: BytesLike; salt: BytesLike; recordSize?: number; padding?: number;
  }): Uint8Array;
  /** sealForPeer with the ephemeral key pair and salt given (the docs/PROTOCOL.md §4.1 vector). */
  sealForPeerWithKeys(options: {
    envelope: Uint8Array; recipientIdentity: BytesLike; ephemeralPrivateKey: BytesLike; ephemeralPublicKey: BytesLike;
    salt: BytesLike;
  }): Uint8Array;
  eceEncrypt(options: {
    ikm: Uint8Array; salt: Uint8Array; keyId?: Uint8Array; recordSize: number; padding?: number; plaintext: Uint8Array;
  }): Uint8Array;
  eceDecrypt(options: { ikm: Uint8Array; body: Uint8Array }): Uint8Array;
  ecdh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  publicKeyFromSpki(der: Uint8Array): Uint8Array;
  ecdsaSign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  ecdsaVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  aesGcmSeal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  aesGcmOpen(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array;
  hkdfSha256(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array;
  /** Bytes of the Wasm heap, to prove secrets are wiped. */
  heapSnapshot(): Uint8Array;
  /** Makes the instance trap (as an abort would): the core reloads itself. */
  trap(): never;
}

export interface LoadCoreOptions {
  /** The .wasm bytes, when the default location cannot be fetched or read. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** URL of pushpeer-core.wasm, default next to the loader. */
  wasmUrl?: string | URL;
  /**
   * 'release' (default, what the package ships), 'testing' (the same optimised build with test entry points) or
   * 'debug' (-sASSERTIONS=2 -sSAFE_HEAP=1, with test entry points); the last two exist in a build tree only.
   */
  flavor?: 'release' | 'testing' | 'debug';
}

export function loadCore(options?: LoadCoreOptions): Promise<Core>;
