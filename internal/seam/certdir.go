package seam

// CertDirEnv names a variable that, when set, makes crypto.Default read the certificate files
// in that folder (<THUMBPRINT>.crt and .prv, as crypto.Files reads them) on every platform.
// handlertest sets it for handler processes where no real certificate store can exist, such
// as Windows under Wine.
const CertDirEnv = "VMEXT_CERT_DIR"
