// The part of PKI.js (PeculiarVentures) the booth needs to read a PKCS#12 file
// (app/static/js/crypto/pkcs12.js).  Bundled by tools/vendor-pkijs/build.sh into
// app/static/vendor/pkijs/pkijs.min.js — one same-origin ES module, no eval.
export {
  PFX, AuthenticatedSafe, SafeContents, SafeBag, PKCS8ShroudedKeyBag, CertBag,
  PrivateKeyInfo, Certificate, createCMSECDSASignature, getCrypto,
} from 'pkijs';
