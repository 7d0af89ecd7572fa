package crypto

import "os"

// CertDirEnv names a variable that, when set, makes Default use the certificate files in
// that folder (<THUMBPRINT>.crt and .prv, as Files reads them) on every platform. It is for
// fake agents and tests (handlertest sets it where no real certificate store can exist,
// such as Windows under Wine); the guest agent never sets it.
const CertDirEnv = "VMEXT_CERT_DIR"

// Default returns the platform's Decryptor: Files{Dir: CertDir(configFolder)} on Linux
// and other Unix systems, the LocalMachine\My store on Windows, unless CertDirEnv is set.
func Default(configFolder string) Decryptor {
	if dir := os.Getenv(CertDirEnv); dir != "" {
		return Files{Dir: dir}
	}
	return platformDefault(configFolder)
}
