/**
 * crypto/pkcs12.js — PKI mode (§2.7): a voter's signer from their PKCS#12 (.p12/.pfx) file.
 *
 * The file is parsed and decrypted by PKI.js (PeculiarVentures, vendored as one ES module in
 * ../../vendor/pkijs/, see its README): the MAC is checked, the PBES2/PBKDF2 (or legacy
 * PKCS#12 PBE) bags are decrypted, and the private key is imported into WebCrypto as a
 * NON-extractable key.  Nothing here is hand-written crypto: WebCrypto signs, PKI.js parses.
 *
 *   sign(m) = RSASSA-PKCS1-v1_5-SHA256(m)   (RSA key ≥ 2048 bits)
 *           | ECDSA-SHA256(m) as DER        (P-256 / P-384; WebCrypto gives r||s, PKI.js
 *                                            re-encodes it as the DER Ecdsa-Sig-Value)
 *
 * exactly what crypto/roll.py verify_request checks.  GOST 34.10 keys (the Kazakh national
 * CA's other key type) are out of scope: WebCrypto has no GOST, see §2.7.
 *
 * Not re-exported by ../saylau-crypto.js (that one has no dependencies); the booth's PKI
 * step (../pki-card.js) imports it directly.
 */

import {
  PFX, PrivateKeyInfo, createCMSECDSASignature,
} from '../../vendor/pkijs/pkijs.min.js';
import { CryptoError } from './errors.js';

/** The PKCS#12 file cannot be used; `code` says why (shown to the voter, translated). */
export class Pkcs12Error extends CryptoError {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const OID_RSA = '1.2.840.113549.1.1.1';
const OID_EC = '1.2.840.10045.2.1';
const CURVES = { '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.34': 'P-384' };
const GOST_PREFIX = '1.2.643.'; // GOST R 34.10 / 34.11 (the RU/KZ national algorithms)
const KEY_BAG = '1.2.840.113549.1.12.10.1.2'; // pkcs8ShroudedKeyBag
const PLAIN_KEY_BAG = '1.2.840.113549.1.12.10.1.1'; // keyBag (unencrypted)
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const X509_CERT = '1.2.840.113549.1.9.22.1';
const MAX_FILE = 64 * 1024;

const subtle = () => globalThis.crypto.subtle;
const toBuffer = (u8) => u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength);

/** WebCrypto parameters for a key's AlgorithmIdentifier {algorithmId, algorithmParams}. */
export function algorithmFor(spkiAlgorithm) {
  const oid = spkiAlgorithm.algorithmId;
  if (oid === OID_RSA) {
    return { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' }, kind: 'rsa' };
  }
  if (oid === OID_EC) {
    const params = spkiAlgorithm.algorithmParams;
    const curveOid = params && typeof params.valueBlock?.toString === 'function' ? params.valueBlock.toString() : '';
    const namedCurve = CURVES[curveOid];
    if (!namedCurve) {
      throw new Pkcs12Error('unsupported_key', `ECDSA curve ${curveOid || '?'} is not supported (P-256 or P-384)`);
    }
    return { import: { name: 'ECDSA', namedCurve }, sign: { name: 'ECDSA', hash: 'SHA-256' }, kind: 'ecdsa' };
  }
  if (oid.startsWith(GOST_PREFIX)) {
    throw new Pkcs12Error('gost_out_of_scope',
      'GOST 34.10 keys are out of scope: use an RSA or ECDSA certificate (or the national signing tool)');
  }
  throw new Pkcs12Error('unsupported_key', `key algorithm ${oid} is not supported (RSA or ECDSA P-256/P-384)`);
}

/** Every bag of every SafeContents, decrypting the encrypted ones with `password`. */
async function safeBags(pfx, passwordBuffer) {
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw new Pkcs12Error('invalid_file', 'the PKCS#12 file has no authenticated safe');
  await safe.parseInternalValues({
    safeContents: safe.safeContents.map(() => ({ password: passwordBuffer })),
  });
  const bags = [];
  for (const contents of safe.parsedValue.safeContents) bags.push(...contents.value.safeBags);
  return bags;
}

/** A decryption failure: an algorithm WebCrypto lacks (3DES, RC2: old exports) or the password. */
function decryptError(exc, what) {
  const msg = String(exc?.message || exc);
  if (/unknown .*algorithm|not supported|unsupported/i.test(msg)) {
    return new Pkcs12Error('unsupported_encryption',
      `${what} uses an encryption this browser cannot open (${msg}); re-export the file with AES-256 (PBES2)`);
  }
  return new Pkcs12Error('wrong_password', `${what} cannot be decrypted (${msg})`);
}

async function pkcs12Parts(bytes, password) {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new Pkcs12Error('invalid_file', 'no PKCS#12 file given');
  }
  if (bytes.length > MAX_FILE) throw new Pkcs12Error('invalid_file', 'the file is too large for a PKCS#12 file');
  if (typeof password !== 'string') throw new Pkcs12Error('wrong_password', 'a password is required');
  const passwordBuffer = toBuffer(new TextEncoder().encode(password));
  let pfx;
  try {
    pfx = PFX.fromBER(toBuffer(bytes));
  } catch (exc) {
    throw new Pkcs12Error('invalid_file', `not a PKCS#12 file (${exc.message || exc})`);
  }
  try {
    // checkIntegrity: the password-based MAC over the whole file (HMAC-SHA-1/256/...);
    // a file without a MAC is still read (decryption below then needs the password)
    await pfx.parseInternalValues({ password: passwordBuffer, checkIntegrity: pfx.macData !== undefined });
  } catch (exc) {
    const msg = String(exc?.message || exc);
    if (/integrity .* is broken/i.test(msg)) {
      throw new Pkcs12Error('wrong_password', 'wrong password, or the file was altered (its MAC does not verify)');
    }
    throw new Pkcs12Error('invalid_file', `the PKCS#12 file cannot be read (${msg})`);
  }
  let bags;
  try {
    bags = await safeBags(pfx, passwordBuffer);
  } catch (exc) {
    if (exc instanceof Pkcs12Error) throw exc;
    throw decryptError(exc, 'the PKCS#12 contents');
  }
  const keys = [];
  const certificates = [];
  for (const bag of bags) {
    if (bag.bagId === KEY_BAG) {
      try {
        await bag.bagValue.parseInternalValues({ password: passwordBuffer });
      } catch (exc) {
        throw decryptError(exc, 'the private key');
      }
      keys.push(bag.bagValue.parsedValue);
    } else if (bag.bagId === PLAIN_KEY_BAG) {
      keys.push(bag.bagValue);
    } else if (bag.bagId === CERT_BAG && bag.bagValue.certId === X509_CERT && bag.bagValue.parsedValue) {
      certificates.push(bag.bagValue.parsedValue);
    }
  }
  if (keys.length === 0) throw new Pkcs12Error('no_key', 'the PKCS#12 file holds no private key');
  if (keys.length > 1) throw new Pkcs12Error('no_key', 'the PKCS#12 file holds several private keys');
  if (certificates.length === 0) throw new Pkcs12Error('no_certificate', 'the PKCS#12 file holds no certificate');
  if (!(keys[0] instanceof PrivateKeyInfo)) throw new Pkcs12Error('invalid_file', 'the private key is not PKCS#8');
  return { keyInfo: keys[0], certificates };
}

/** ECDSA as crypto/roll.py expects it: DER Ecdsa-Sig-Value; RSA: the signature as is. */
async function signWith(privateKey, algo, message) {
  const raw = await subtle().sign(algo.sign, privateKey, message);
  const sig = algo.kind === 'ecdsa' ? createCMSECDSASignature(raw) : raw;
  return new Uint8Array(sig);
}

/**
 * The voter's signer from a PKCS#12 file and its password.
 * Returns {kind: 'x509', certificateDer, publicKeyDer (SPKI), algorithm ('rsa'|'ecdsa'),
 * sign(message) → Promise<Uint8Array>}; throws Pkcs12Error (code: invalid_file,
 * wrong_password, unsupported_encryption, no_key, no_certificate, key_mismatch, unsupported_key,
 * gost_out_of_scope).
 */
export async function signerFromPkcs12(bytes, password) {
  const { keyInfo, certificates } = await pkcs12Parts(bytes, password);
  const algo = algorithmFor(keyInfo.privateKeyAlgorithm);
  let privateKey;
  try {
    privateKey = await subtle().importKey('pkcs8', keyInfo.toSchema().toBER(false), algo.import, false, ['sign']);
  } catch (exc) {
    throw new Pkcs12Error('unsupported_key', `WebCrypto refuses the private key (${exc?.message || exc})`);
  }
  // the certificate is the one whose public key verifies a signature by this private key
  // (WebCrypto's own signature format both ways: r||s for ECDSA)
  const probe = new TextEncoder().encode('saylau/v1/pkcs12-key-check');
  const probeSig = await subtle().sign(algo.sign, privateKey, probe);
  for (const cert of certificates) {
    const spkiInfo = cert.subjectPublicKeyInfo;
    if (spkiInfo.algorithm.algorithmId !== keyInfo.privateKeyAlgorithm.algorithmId) continue;
    const publicKeyDer = new Uint8Array(spkiInfo.toSchema().toBER(false));
    let matches = false;
    try {
      const publicKey = await subtle().importKey('spki', publicKeyDer, algo.import, false, ['verify']);
      matches = await subtle().verify(algo.sign, publicKey, probeSig, probe);
    } catch {
      matches = false;
    }
    if (!matches) continue;
    if (algo.kind === 'rsa' && privateKey.algorithm.modulusLength < 2048) {
      throw new Pkcs12Error('unsupported_key', 'RSA keys must have at least 2048 bits');
    }
    return Object.freeze({
      kind: 'x509',
      algorithm: algo.kind,
      certificateDer: new Uint8Array(cert.toSchema().toBER(false)),
      publicKeyDer,
      sign: (message) => signWith(privateKey, algo, message),
    });
  }
  throw new Pkcs12Error('key_mismatch', 'no certificate in the file matches its private key');
}
